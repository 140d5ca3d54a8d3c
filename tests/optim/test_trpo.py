"""TRPO's step: conjugate gradient, and on the point robot a better surrogate within the KL bound."""

import torch

from metalab.models.policies import GaussianMLP
from metalab.optim.policy_gradient import advantages, masked_task_mean, ratio_surrogate
from metalab.optim.trpo import conjugate_gradient, trpo_step
from metalab.tasks.navigation import PointNavigation


def test_conjugate_gradient_solves_a_symmetric_positive_definite_system():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=g, dtype=torch.float64)
    a = a @ a.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    assert torch.allclose(conjugate_gradient(lambda v: a @ v, b, iters=6), torch.linalg.solve(a, b), atol=1e-8)


def test_trpo_step_improves_the_surrogate_and_keeps_the_kl_within_its_bound():
    torch.manual_seed(0)
    policy, env = GaussianMLP(hidden=16), PointNavigation(horizon=30)
    goals = torch.rand(4, 2, generator=torch.Generator().manual_seed(1)) - 0.5
    old = {k: v.detach().clone().expand(4, *v.shape) for k, v in policy.named_parameters()}
    noise = torch.randn(4, 10, env.horizon, 2, generator=torch.Generator().manual_seed(2))
    rollouts = env.rollout(lambda obs, t: policy.mean(old, obs) + noise[:, :, t] * old["log_std"].exp(), goals, 10)
    adv = advantages(rollouts.observations, rollouts.rewards, rollouts.mask, 0.99)
    obs, actions = rollouts.observations.flatten(1, 2), rollouts.actions.flatten(1, 2)
    old_log_prob = policy.log_prob(old, obs, actions).view_as(adv)

    def current() -> dict[str, torch.Tensor]:
        return {k: v.expand(4, *v.shape) for k, v in policy.named_parameters()}

    def loss() -> torch.Tensor:
        return ratio_surrogate(policy.log_prob(current(), obs, actions).view_as(adv), old_log_prob, adv,
                               rollouts.mask).mean()

    def kl() -> torch.Tensor:
        return masked_task_mean(policy.kl(old, current(), obs).view_as(adv), rollouts.mask).mean()

    before = float(loss().detach())
    step = trpo_step(list(policy.parameters()), loss, kl, max_kl=0.01)
    with torch.no_grad():
        after, divergence = float(loss()), float(kl())
    assert step.accepted and after == step.loss_after
    assert after < before - 1e-3  # improved by a margin, not by rounding
    assert 0 < divergence <= 0.01
    assert step.fraction == 1.0 or divergence > 0.003  # the step uses the trust region, not a sliver of it
