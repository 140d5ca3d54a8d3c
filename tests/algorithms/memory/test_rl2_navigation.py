"""RL^2 on the point robot: the GRU's memory persists across the episodes of a trial, the PPO
ratio starts at 1 (step-by-step play equals the full-sequence pass), and a short training
raises the return on held-out goals."""

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.algorithms.memory.rl2_navigation import NavigationTrials, gaussian_log_prob, play
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.stream import TaskStream
from metalab.training.config import TrainConfig
from metalab.training.loop import new_learner, train


pytestmark = pytest.mark.usefixtures("one_thread")  # many tiny ops


def learner(**values):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("rl2", {"env": "navigation2d", "hidden": 16, "episodes": 2, **values})


def test_memory_persists_across_episodes_of_a_trial():
    rl2 = learner()
    trials = NavigationTrials.of(_batched(), rl2.env, 2)
    other_first = trials.noise.clone()
    other_first[:, :rl2.env.horizon] = torch.randn(other_first[:, :rl2.env.horizon].shape,
                                                   generator=torch.Generator().manual_seed(1))
    a = play(rl2.policy, rl2.env, trials)
    b = play(rl2.policy, rl2.env, NavigationTrials(trials.tasks, trials.count, 2, trials.goals, other_first))
    # same noise in episode 2, different experience in episode 1: episode 2 differs only through memory
    assert not torch.allclose(a.paths[:, 1], b.paths[:, 1])
    h = rl2.env.horizon
    assert (a.inputs[:, h, -1] == 1).all() and (a.inputs[:, :h, -1] == 0).all()  # done flag at the new episode
    assert (a.paths[:, 1, 0] == 0).all()  # each episode restarts at the origin


def _batched():
    stream = TaskStream(Navigation2D("train"), TaskShape(None, 4, 3), meta_batch=2, seed=0)
    return next(stream)


def test_play_step_by_step_equals_the_full_sequence_pass():
    rl2 = learner()
    trials = NavigationTrials.of(_batched(), rl2.env, 2)
    played = play(rl2.policy, rl2.env, trials)
    with torch.no_grad():
        means, _, _ = rl2.policy(played.inputs)
    noise = (played.actions - means) / rl2.policy.log_std.exp()
    assert torch.allclose(noise, trials.noise, atol=1e-4)
    assert played.returns.shape == (6, 2) and torch.allclose(played.returns.sum(-1), played.rewards.sum(-1))
    assert gaussian_log_prob(rl2.policy, means, played.actions).shape == (6, 200)


def test_short_training_raises_return_on_held_out_goals(tmp_path):
    config = TrainConfig(algorithm="rl2", dataset="navigation2d", shots=4, queries=2, meta_batch=8, steps=25,
                         val_every=1000, val_episodes=2, lr=0.003, grad_clip=1.0, out=str(tmp_path / "run"), seed=0,
                         learner={"hidden": 16, "epochs": 4, "episodes": 2})
    trained = new_learner(config, Navigation2D("train"), TaskShape(None, 4, 2))
    train(config, progress=False, learner=trained)
    after = evaluate(trained, Navigation2D("test"), shots=4, queries=4, episodes=20)
    before = evaluate(learner(), Navigation2D("test"), shots=4, queries=4, episodes=20)
    assert list(after.breakdown) == ["return_after_0", "return_after_1"]  # episode 1 and 2 of a trial
    assert after.mean - before.mean > after.ci95 + before.ci95, (before, after)
