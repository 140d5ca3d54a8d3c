"""MAML-RL's ``action_scale``: the policy's Gaussian lives in units of ``action_scale`` (as
rllab's ``normalize`` wrapper, which Finn et al.'s point robot runs in), so the simulator sees
exactly the actions of an unscaled policy whose output layer and std are scaled."""

import math

import torch

from metalab.algorithms import build_learner
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D


def learner(**values):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("maml-rl", {"hidden": 16, "eval_inner_steps": 0, **values})


def test_scaled_policy_sends_the_simulator_the_actions_of_an_equivalent_unscaled_policy():
    task = Navigation2D("test").fixed(TaskShape(None, 6, 6), 0, 0)
    scaled, plain = learner(action_scale=0.1), learner()
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
