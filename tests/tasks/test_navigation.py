"""The point-robot navigation family: dynamics, rewards, episode ends, seeded tasks."""

import pytest
import torch

from metalab.errors import ConfigError
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D, PointNavigation
from metalab.tasks.registry import load_tasks


def test_actions_are_clipped_and_reward_is_minus_the_l2_distance_after_the_step():
    env = PointNavigation(horizon=3)
    goals = torch.tensor([[0.5, -0.5]])
    rollouts = env.rollout(lambda obs, t: torch.tensor([[[7.0, -0.05]]]).expand_as(obs), goals, 1)
    positions = torch.tensor([[0.0, 0.0], [0.1, -0.05], [0.2, -0.1]])
    assert torch.allclose(rollouts.observations[0, 0], positions)
    after = torch.tensor([[0.1, -0.05], [0.2, -0.1], [0.3, -0.15]])
    assert torch.allclose(rollouts.rewards[0, 0], -(after - goals).norm(dim=-1))
    assert torch.equal(rollouts.actions[0, 0, 0], torch.tensor([7.0, -0.05]))  # the policy's, unclipped


def test_episode_ends_at_the_goal_and_later_steps_are_masked():
    env = PointNavigation(horizon=10)
    goals = torch.tensor([[0.2, 0.0], [0.5, 0.5]])
    rollouts = env.rollout(lambda obs, t: torch.tensor([0.1, 0.0]).expand_as(obs), goals, 3)
    assert rollouts.mask[0].sum(-1).tolist() == [2, 2, 2]  # reached (0.2, 0) after two steps
    assert rollouts.mask[1].sum(-1).tolist() == [10, 10, 10]
    assert (rollouts.rewards[0, :, 2:] == 0).all()
    assert rollouts.steps == 3 * 2 + 3 * 10


def test_fixed_tasks_are_seeded_and_parts_differ():
    shape = TaskShape(None, 4, 6)
    test = Navigation2D("test")
    a, b = test.fixed(shape, 0, 3), test.fixed(shape, 0, 3)
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.support_y, b.support_y)
    assert a.support_x.shape == (4, 2) and a.query_x.shape == (6, 2) and a.support_y.dtype == torch.int64
    assert not torch.equal(a.support_x, Navigation2D("val").fixed(shape, 0, 3).support_x)
    goals = torch.stack([test.fixed(shape, 0, i).support_x[0] for i in range(200)])
    assert goals.abs().max() <= 0.5 and goals.std(0).min() > 0.2  # uniform on [-0.5, 0.5]^2: std ~0.29


def test_registered_as_navigation2d_and_has_no_supervised_loss():
    family = load_tasks("navigation2d", "train")
    assert isinstance(family, Navigation2D) and family.higher_is_better and family.metric == "return"
    with pytest.raises(ConfigError, match="no supervised loss.*maml-rl"):
        family.loss(torch.zeros(1), torch.zeros(1))


def test_oracle_environment_observes_the_goal_and_a_policy_reading_it_reaches_it():
    env = PointNavigation(horizon=20, observe_goal=True)
    goals = torch.tensor([[0.3, -0.2], [-0.45, 0.1]])
    rollouts = env.rollout(lambda obs, t: obs[..., 2:] - obs[..., :2], goals, 2)  # straight to the goal
    assert env.observations == 4 and rollouts.observations.shape == (2, 2, 20, 4)
    assert torch.equal(rollouts.observations[..., 2:], goals[:, None, None, :].expand(2, 2, 20, 2))
    assert rollouts.mask[0].sum(-1).tolist() == [3, 3] and rollouts.mask[1].sum(-1).tolist() == [5, 5]


def test_oracle_family_is_registered_with_the_same_fixed_goals_as_navigation2d():
    shape = TaskShape(None, 4, 4)
    oracle, plain = load_tasks("navigation2d-oracle", "test"), load_tasks("navigation2d", "test")
    assert oracle.learner_defaults(shape) == {"env": "navigation2d-oracle"} and oracle.name == "navigation2d-oracle/test"
    for i in range(5):
        a, b = oracle.fixed(shape, 0, i), plain.fixed(shape, 0, i)
        assert torch.equal(a.support_x, b.support_x) and torch.equal(a.query_y, b.query_y)
    with pytest.raises(ConfigError, match="unknown 2D navigation environment 'maze'"):
        Navigation2D("test", env="maze")
