"""The half-cheetah families: task rewards from gymnasium's HalfCheetah-v5, seeded starts, seeded tasks."""

import sys

import numpy as np
import pytest
import torch

from metalab.errors import ConfigError
from metalab.tasks.cheetah import HalfCheetah, HalfCheetahTasks
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.seeding import derive_seed

gym = pytest.importorskip("gymnasium", reason="half-cheetah tasks need pip install 'metalab[rl]'")
pytestmark = pytest.mark.usefixtures("one_thread")

ACTIONS = torch.linspace(-0.9, 0.9, 6)


def steady(action: torch.Tensor = ACTIONS):
    return lambda observations, t: action.expand(*observations.shape[:2], 6)


def test_direction_reward_is_the_direction_times_gymnasiums_forward_velocity_minus_half_its_control_cost():
    env, horizon = HalfCheetah("direction", horizon=5), 5
    forward = env.rollout(steady(), torch.tensor([[1.0], [-1.0]]), 1, seeds=[7, 7])
    reference = gym.make("HalfCheetah-v5")  # reward: x velocity - 0.1 |a|^2
    reference.reset(seed=derive_seed(7, 0))
    expected = [reference.step(ACTIONS.double().numpy())[1] for _ in range(horizon)]
    control = 0.05 * float(ACTIONS.double().square().sum())
    assert np.allclose(forward.rewards[0, 0].double().numpy(), np.array(expected) + control, atol=1e-5)
    velocity = forward.rewards[0, 0] + control
    assert torch.allclose(forward.rewards[1, 0], -velocity - control, atol=1e-5)  # the other direction
    assert velocity.abs().max() > 0.01


def test_velocity_reward_is_minus_the_distance_to_the_goal_speed():
    direction = HalfCheetah("direction", horizon=4).rollout(steady(), torch.tensor([[1.0]]), 2, seeds=[3])
    speed = HalfCheetah("velocity", horizon=4).rollout(steady(), torch.tensor([[1.5]]), 2, seeds=[3])
    control = 0.05 * float(ACTIONS.square().sum())
    velocity = direction.rewards + control
    assert torch.allclose(speed.rewards, -(velocity - 1.5).abs() - control, atol=1e-5)


def test_actions_are_clipped_to_the_actuator_range_and_the_policys_actions_are_kept():
    env = HalfCheetah("direction", horizon=3)
    big = env.rollout(steady(torch.full((6,), 5.0)), torch.tensor([[1.0]]), 1, seeds=[0])
    one = env.rollout(steady(torch.ones(6)), torch.tensor([[1.0]]), 1, seeds=[0])
    assert torch.equal(big.rewards, one.rewards) and torch.equal(big.observations, one.observations)
    assert big.actions.max() == 5.0 and big.mask.sum() == 3


def test_starts_are_seeded_per_trajectory_and_the_same_seeds_repeat_a_rollout():
    env = HalfCheetah("velocity", horizon=2)
    a = env.rollout(steady(), torch.tensor([[1.0], [0.5]]), 3, seeds=[1, 2])
    b = env.rollout(steady(), torch.tensor([[1.0], [0.5]]), 3, seeds=[1, 2])
    c = env.rollout(steady(), torch.tensor([[1.0], [0.5]]), 3, seeds=[1, 9])
    assert torch.equal(a.observations, b.observations) and a.observations.shape == (2, 3, 2, 17)
    assert not torch.equal(a.observations[0, 0, 0], a.observations[0, 1, 0])  # trajectories start apart
    assert torch.equal(a.observations[0], c.observations[0]) and not torch.equal(a.observations[1], c.observations[1])


def test_fixed_tasks_are_seeded_directions_or_speeds_and_parts_differ():
    shape = TaskShape(None, 4, 6)
    directions = load_tasks("cheetah-dir", "test")
    speeds = load_tasks("cheetah-vel", "test")
    assert isinstance(directions, HalfCheetahTasks) and directions.learner_defaults(shape) == {"env": "cheetah-dir"}
    a = directions.fixed(shape, 0, 3)
    assert torch.equal(a.support_x, directions.fixed(shape, 0, 3).support_x) and a.support_x.shape == (4, 1)
    drawn = torch.stack([directions.fixed(shape, 0, i).support_x[0, 0] for i in range(100)])
    assert set(drawn.tolist()) == {-1.0, 1.0} and 30 < int((drawn > 0).sum()) < 70
    goals = torch.stack([speeds.fixed(shape, 0, i).support_x[0, 0] for i in range(200)])
    assert goals.min() >= 0 and goals.max() <= 2 and goals.std() > 0.45  # uniform on [0, 2]: std ~0.58
    val = torch.stack([load_tasks("cheetah-vel", "val").fixed(shape, 0, i).support_x[0, 0] for i in range(5)])
    assert not torch.equal(val, goals[:5])


def test_without_gymnasium_the_error_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ConfigError, match=r"need gymnasium and MuJoCo: pip install 'metalab\[rl\]'"):
        HalfCheetah("direction").rollout(steady(), torch.tensor([[1.0]]), 1)
    with pytest.raises(ConfigError, match="objective must be one of"):
        HalfCheetah("sideways")
