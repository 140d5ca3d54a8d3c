"""MAML-RL on 2D navigation (and half-cheetah): adaptation helps after a short meta-training, runs
resume exactly, evaluation reports the return after each policy-gradient step."""

import importlib.util

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.errors import ConfigError
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.registry import load_tasks
from metalab.tasks.stream import TaskStream
from metalab.training.checkpoint import load_checkpoint
from metalab.training.config import TrainConfig
from metalab.training.loop import new_learner, train


pytestmark = pytest.mark.usefixtures("one_thread")  # many tiny ops


def small_learner(**values):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("maml-rl", {"hidden": 32, **values})


def test_one_adaptation_step_raises_return_on_held_out_goals_after_short_meta_training():
    learner = small_learner(eval_inner_steps=1)
    stream = TaskStream(Navigation2D("train"), TaskShape(None, 10, 10), meta_batch=10, seed=0)
    for _ in range(15):
        result, = learner.meta_losses(next(stream))
        assert result.metrics["kl"] <= learner.config.max_kl
    held_out = evaluate(learner, Navigation2D("test"), shots=20, queries=20, episodes=30)
    before, after = held_out.breakdown["return_after_0"], held_out.breakdown["return_after_1"]
    assert after[0] - before[0] > after[1] + before[1], held_out  # by more than both CIs
    untrained = evaluate(small_learner(eval_inner_steps=1), Navigation2D("test"), shots=20, queries=20, episodes=30)
    assert held_out.mean - untrained.mean > held_out.ci95 + untrained.ci95, (held_out, untrained)


def test_evaluation_reports_returns_after_each_step_with_the_paper_figure():
    result = evaluate(small_learner(), Navigation2D("test"), shots=20, queries=5, episodes=4)
    assert list(result.breakdown) == [f"return_after_{s}" for s in range(4)]
    assert result.mean == result.breakdown["return_after_3"][0] and result.paper == -3.23
    json = result.to_json()
    assert json["breakdown"]["return_after_0"]["ci95"] >= 0 and json["metric"] == "return"


def config(tmp_path, **changes) -> TrainConfig:
    values = dict(algorithm="maml-rl", dataset="navigation2d", shots=5, queries=5, meta_batch=3, steps=4, val_every=2,
                  val_episodes=3, out=str(tmp_path / "run"), seed=0, learner={"hidden": 16, "eval_inner_steps": 1})
    values.update(changes)
    return TrainConfig(**values)


CHEETAH = pytest.param("cheetah-dir", marks=pytest.mark.skipif(
    importlib.util.find_spec("gymnasium") is None, reason="half-cheetah tasks need pip install 'metalab[rl]'"))


@pytest.mark.parametrize("dataset", ["navigation2d", CHEETAH])
def test_resumed_run_equals_uninterrupted_run_with_the_same_trajectories(tmp_path, kill_during, dataset):
    train(config(tmp_path / "a", dataset=dataset), progress=False)
    first = config(tmp_path / "b", dataset=dataset)
    killed = kill_during(new_learner(first, load_tasks(dataset, "train"), TaskShape(None, 5, 5)), 4)  # last.pt: step 2
    with pytest.raises(KeyboardInterrupt):
        train(first, progress=False, learner=killed)
    state = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert state["step"] == 2 and "generator" in state["streams"][0]  # the rollout seeds' source
    train(first, resume=True, progress=False)
    a = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert a["step"] == b["step"] == 4
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert not all(torch.equal(a["model"][k], state["model"][k]) for k in a["model"])  # steps 3-4 moved it


def test_bad_hyperparameters_are_named():
    with pytest.raises(ConfigError, match="outer must be one of"):
        build_learner("maml-rl", {"outer": "sgd"})
    with pytest.raises(ConfigError, match=r"discount must be a number in \(0, 1\]"):
        build_learner("maml-rl", {"discount": 1.5})
    with pytest.raises(ConfigError, match="maml-rl learns rl tasks.*sinusoid"):
        train(TrainConfig(algorithm="maml-rl", dataset="sinusoid", steps=1), progress=False)
