"""Bernoulli bandit tasks: arm probabilities Uniform[0, 1], fixed tasks and trials that replay
exactly, one reward table shared by every method on a task."""

import numpy as np
import pytest
import torch

from metalab.errors import ConfigError
from metalab.tasks.bandit import Bandit, BanditTrials
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.stream import TaskStream, fixed_tasks

SHAPE = TaskShape(5, 10, 3)


def test_dataset_bandit_names_the_family_and_its_parts_hold_different_tasks():
    test, val = load_tasks("bandit", "test"), load_tasks("bandit", "val")
    assert isinstance(test, Bandit) and test.kind == "bandit" and test.metric == "total_reward"
    assert not torch.equal(test.fixed(SHAPE, 0, 0).support_x, val.fixed(SHAPE, 0, 0).support_x)


def test_episode_carries_arm_probabilities_per_pull_and_one_seed_per_trial():
    task = Bandit("test").fixed(SHAPE, 0, 3)
    assert task.support_x.shape == (10, 5) and task.support_y.shape == (10,) and task.query_y.shape == (3,)
    assert (task.support_x == task.support_x[0]).all() and (task.query_x == task.support_x[0]).all()
    assert len(set(task.query_y.tolist())) == 3
    assert torch.equal(Bandit("test").fixed(SHAPE, 0, 3).query_y, task.query_y)  # fixed: same every time


def test_arm_probabilities_are_uniform_on_the_unit_interval():
    means = torch.cat([e.support_x[:, 0].flatten() for e in fixed_tasks(Bandit("test"), SHAPE, seed=0, count=400,
                                                                        batch=100)])
    assert 0 <= means.min() and means.max() <= 1
    assert abs(float(means.mean()) - 0.5) < 0.02 and abs(float(means.var()) - 1 / 12) < 0.01
    assert abs(float((means < 0.25).float().mean()) - 0.25) < 0.02


def test_payouts_follow_the_arm_probabilities_and_replay_from_the_seeds():
    batch = next(TaskStream(Bandit("train"), TaskShape(3, 2000, 2), meta_batch=2, seed=0))
    trials = BanditTrials(batch)
    assert trials.shape == (2, 2, 2000, 3)
    rates = trials.payouts.mean(2)  # [T, Q, k]
    assert np.abs(rates - trials.means[:, None, :]).max() < 0.05
    again = BanditTrials(batch)
    assert np.array_equal(trials.payouts, again.payouts) and np.array_equal(trials.choices, again.choices)
    assert not np.array_equal(trials.payouts[:, 0], trials.payouts[:, 1])  # trials differ


def test_outcomes_are_total_reward_and_pseudo_regret():
    batch = next(TaskStream(Bandit("train"), SHAPE, meta_batch=2, seed=1))
    trials = BanditTrials(batch)
    best = trials.means.argmax(-1)
    actions = np.broadcast_to(best[:, None, None], (2, 3, 10)).copy()
    paid, outcome = trials.outcomes(actions)
    assert np.allclose(outcome[..., 1], 0) and np.array_equal(outcome[..., 0], paid.sum(-1))
    worst = np.broadcast_to(trials.means.argmin(-1)[:, None, None], (2, 3, 10)).copy()
    gap = trials.means.max(-1) - trials.means.min(-1)
    assert np.allclose(trials.outcomes(worst)[1][..., 1], 10 * gap[:, None])


def test_bad_shapes_and_a_supervised_loss_are_named():
    with pytest.raises(ConfigError, match="ways = the number of arms"):
        Bandit("train").check(TaskShape(None, 10, 1))
    with pytest.raises(ConfigError, match="ways = the number of arms"):
        Bandit("train").check(TaskShape(1, 10, 1))
    with pytest.raises(ConfigError, match="shots must be an integer >= 1"):
        Bandit("train").check(TaskShape(5, 0, 1))
    with pytest.raises(ConfigError, match="RL learner"):
        Bandit("train").loss(torch.zeros(1), torch.zeros(1))
