"""Policy-gradient pieces: returns, the linear baseline, and gradients checked by finite differences."""

import torch

from metalab.algorithms.gradient.maml_rl import MAMLRL, MAMLRLConfig, _Sampler
from metalab.optim.policy_gradient import baseline_features, discounted_returns, linear_baseline, ratio_surrogate
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.stream import TaskStream


def test_discounted_returns_sum_the_future_rewards():
    rewards = torch.tensor([[1.0, 2.0, 4.0]])
    assert torch.allclose(discounted_returns(rewards, 0.5), torch.tensor([[1 + 1 + 1.0, 2 + 2.0, 4.0]]))


def test_linear_baseline_recovers_a_linear_function_of_its_features():
    observations = torch.randn(2, 5, 7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    weights = torch.tensor([1.0, -2.0, 0.5, 0.3, 3.0, -1.0, 2.0, 0.7], dtype=torch.float64)
    target = baseline_features(observations) @ weights
    fit = linear_baseline(observations, target, torch.ones_like(target), reg=1e-10)
    assert torch.allclose(fit, target, atol=1e-6)


def tiny_learner(**overrides) -> tuple[MAMLRL, _Sampler]:
    torch.manual_seed(0)
    learner = MAMLRL(MAMLRLConfig(hidden=4, layers=1, **overrides)).double()
    with torch.no_grad():  # biases off 0: the robot starts at the origin, where zero biases sit on ReLU kinks
        for name in ("b0", "b1"):
            getattr(learner.policy, name).uniform_(-0.5, 0.5)
    batch = next(TaskStream(Navigation2D("train"), TaskShape(None, 3, 3), meta_batch=2, seed=0))
    sampler = learner.sampler(batch)
    sampler.goals = sampler.goals.double()
    return learner, sampler


def finite_difference(f, params: list[torch.Tensor], eps: float = 1e-6) -> list[torch.Tensor]:
    grads = []
    for p in params:
        g = torch.zeros_like(p)
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += eps
                up = float(f())
                p.view(-1)[i] -= 2 * eps
                down = float(f())
                p.view(-1)[i] += eps
            g.view(-1)[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def test_inner_policy_gradient_matches_finite_differences_on_a_tiny_policy():
    learner, sampler = tiny_learner()
    params = list(learner.policy.parameters())
    loss = lambda: sampler.closure(3)(learner.theta(2, outer=True))  # noqa: E731  (replays the same trajectories)
    loss()  # collect once
    exact = torch.autograd.grad(loss(), params)
    for a, b in zip(exact, finite_difference(loss, params)):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)


def test_meta_gradient_through_the_inner_step_matches_finite_differences():
    learner, sampler = tiny_learner()
    params = list(learner.policy.parameters())
    fast = learner.adapted(sampler, 3, steps=1, outer=True)
    rollouts, adv = sampler.collect(fast, 1, 3)
    old = learner.log_prob({k: v.detach() for k, v in fast.items()}, rollouts)

    def outer() -> torch.Tensor:
        adapted = learner.adapted(sampler, 3, steps=1, outer=True)
        return ratio_surrogate(learner.log_prob(adapted, rollouts), old, adv, rollouts.mask).mean()

    exact = torch.autograd.grad(outer(), params)
    for a, b in zip(exact, finite_difference(outer, params)):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)
    first_order = MAMLRL(MAMLRLConfig(hidden=4, layers=1, first_order=True)).double()  # same parameters:
    first_order.load_state_dict(learner.state_dict())
    sampler.learner = first_order
    approx = torch.autograd.grad(
        ratio_surrogate(first_order.log_prob(first_order.adapted(sampler, 3, steps=1, outer=True), rollouts), old, adv,
                        rollouts.mask).mean(), list(first_order.policy.parameters()))
    assert not all(torch.allclose(a, b) for a, b in zip(exact, approx))  # the second-order terms matter
