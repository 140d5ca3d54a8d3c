"""MAML-RL's step options: a separate inner step for the log-std (``log_std_lr``: the mean's
parameters take the ``inner_lr`` step, the log-std its own, on the same trajectories), later
steps scaled (``later_lr_factor``), the std narrowed after the first step with the mean's step
kept at its natural size (``later_std_factor``), and ``action_scale``: the policy's Gaussian in units of
``action_scale`` (as rllab's ``normalize`` wrapper, which Finn et al.'s point robot runs in), so the
simulator sees exactly the actions of an unscaled policy whose output layer and std are scaled."""

import math

import torch

from metalab.algorithms import build_learner
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D


def learner(**values):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("maml-rl", {"hidden": 16, "eval_inner_steps": 1, **values})


def test_log_std_takes_its_own_step_and_the_mean_the_inner_step():
    task = Navigation2D("test").fixed(TaskShape(None, 10, 10), 0, 0)
    plain, separate = learner(inner_lr=0.1), learner(inner_lr=0.1, log_std_lr=0.5)
    theta = {k: v.detach().clone() for k, v in plain.policy.named_parameters()}
    with torch.no_grad():
        a = plain.adapt(task.support_x, task.support_y, 0).params
        b = separate.adapt(task.support_x, task.support_y, 0).params
    moved = (a["log_std"] - theta["log_std"]).abs()
    assert moved.min() > 1e-4  # the step moved the log-std at all
    assert torch.allclose(b["log_std"] - theta["log_std"], 5 * (a["log_std"] - theta["log_std"]), rtol=1e-4)
    for k in theta:
        if k != "log_std":
            assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert not torch.equal(a["log_std"], b["log_std"])


def test_steps_after_the_first_take_later_lr_factor_times_the_step():
    task = Navigation2D("test").fixed(TaskShape(None, 10, 10), 0, 0)
    with torch.no_grad():
        one = learner(inner_lr=0.1, eval_inner_steps=1).adapt(task.support_x, task.support_y, 0).params
        full = learner(inner_lr=0.1, eval_inner_steps=2).adapt(task.support_x, task.support_y, 0).params
        half = learner(inner_lr=0.1, eval_inner_steps=2, later_lr_factor=0.5).adapt(
            task.support_x, task.support_y, 0).params
    for k in one:  # the same first step and second-step trajectories; the second step halved
        assert (full[k] - one[k]).abs().max() > 1e-5, k
        assert torch.allclose(half[k] - one[k], 0.5 * (full[k] - one[k]), rtol=1e-3, atol=1e-6), k


def test_scaled_policy_sends_the_simulator_the_actions_of_an_equivalent_unscaled_policy():
    task = Navigation2D("test").fixed(TaskShape(None, 6, 6), 0, 0)
    scaled, plain = learner(action_scale=0.1, eval_inner_steps=0), learner(eval_inner_steps=0)
    last = plain.policy.depth - 1
    with torch.no_grad():
        getattr(plain.policy, f"w{last}").mul_(0.1)
        getattr(plain.policy, f"b{last}").mul_(0.1)
        plain.policy.log_std.add_(math.log(0.1))
        a = scaled.adapt(task.support_x, task.support_y, 0)
        b = plain.adapt(task.support_x, task.support_y, 0)
    ra, rb = a.rollouts[0], b.rollouts[0]
    assert torch.allclose(ra.observations, rb.observations, atol=1e-6)
    assert torch.allclose(ra.actions, rb.actions, atol=1e-6)
    assert torch.allclose(a.returns, b.returns, atol=1e-5)
    observations = ra.observations[0, 0]
    assert torch.allclose(a(observations), b(observations), atol=1e-6)
    # the log-likelihood is the scaled policy's own: lower than the unscaled one's by K log(1/s) per step
    lp_a = scaled.log_prob({k: v[None] for k, v in scaled.policy.named_parameters()}, ra)
    lp_b = plain.log_prob({k: v[None] for k, v in plain.policy.named_parameters()}, rb)
    assert torch.allclose(lp_a, lp_b + 2 * math.log(0.1), atol=1e-4)


def test_later_std_factor_narrows_the_std_from_the_second_step_and_keeps_the_natural_step_size():
    task = Navigation2D("test").fixed(TaskShape(None, 10, 10), 0, 0)
    with torch.no_grad():  # two steps: the same trajectories; the second step also halves the std
        plain = learner(eval_inner_steps=2).adapt(task.support_x, task.support_y, 0)
        narrow = learner(eval_inner_steps=2, later_std_factor=0.5).adapt(task.support_x, task.support_y, 0)
    assert torch.allclose(plain.rollouts[1].actions, narrow.rollouts[1].actions)
    for k in plain.params:
        shift = math.log(0.5) if k == "log_std" else 0.0
        assert torch.allclose(narrow.params[k], plain.params[k] + shift, atol=1e-6), k
    assert not torch.allclose(plain.rollouts[2].actions, narrow.rollouts[2].actions)
    # the third step learns from trajectories of half the std: its mean's step takes a quarter
    rule = learner(later_std_factor=0.5).inner_rule(outer=False)
    params = {k: v.detach() for k, v in learner().policy.named_parameters()}
    grads = {k: torch.ones_like(v) for k, v in params.items()}
    state = rule.init(params)
    for step, (mean_scale, std_shift) in enumerate([(1.0, 0.0), (1.0, math.log(0.5)), (0.25, math.log(0.5))]):
        updates, state = rule.update(grads, state, params)
        for k, u in updates.items():
            expected = -0.1 + std_shift if k == "log_std" else -0.1 * mean_scale
            assert torch.allclose(u, torch.full_like(u, expected)), (step, k)
