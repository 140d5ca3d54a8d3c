"""The baselines of Finn et al. (2017, Fig. 5) beside MAML-RL: a policy pretrained on all goals
(``inner_steps=0``: TRPO on the unadapted policy) and the oracle that observes the goal."""

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.stream import TaskStream


pytestmark = pytest.mark.usefixtures("one_thread")  # many tiny ops


def trained(family: Navigation2D, iterations: int, **values):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("maml-rl", {"hidden": 32, "eval_inner_steps": 0, **family.learner_defaults(None),
                                            **values})
    stream = TaskStream(family, TaskShape(None, 10, 10), meta_batch=10, seed=0)
    for _ in range(iterations):
        result, = learner.meta_losses(next(stream))
        assert result.metrics["kl"] <= learner.config.max_kl
    return learner


def test_pretraining_without_inner_steps_moves_the_initial_policy_and_raises_its_return():
    untrained = trained(Navigation2D("train"), 0, inner_steps=0)
    before = [p.detach().clone() for p in untrained.policy.parameters()]
    pretrained = trained(Navigation2D("train"), 15, inner_steps=0)
    assert any(not torch.equal(a, b) for a, b in zip(before, pretrained.policy.parameters()))
    a = evaluate(untrained, Navigation2D("test"), shots=10, queries=20, episodes=30)
    b = evaluate(pretrained, Navigation2D("test"), shots=10, queries=20, episodes=30)
    assert b.mean - a.mean > a.ci95 + b.ci95, (a, b)


def test_oracle_that_observes_the_goal_beats_the_pretrained_policy_on_held_out_goals():
    oracle = trained(Navigation2D("train", env="navigation2d-oracle"), 15, inner_steps=0)
    assert oracle.policy.mean(dict(oracle.policy.named_parameters()), torch.zeros(1, 4)).shape == (1, 2)
    pretrained = trained(Navigation2D("train"), 15, inner_steps=0)
    a = evaluate(oracle, Navigation2D("test", env="navigation2d-oracle"), shots=10, queries=20, episodes=30)
    b = evaluate(pretrained, Navigation2D("test"), shots=10, queries=20, episodes=30)
    assert a.mean - b.mean > a.ci95 + b.ci95, (a, b)
