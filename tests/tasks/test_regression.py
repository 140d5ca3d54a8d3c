"""Sinusoid regression tasks (Finn et al. 2017) through the same episodes, loop, eval and CLI."""

import json
import math

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.cli import main
from metalab.errors import ConfigError
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.regression import Sinusoid
from metalab.tasks.stream import TaskStream

SHAPE_10_7 = TaskShape(None, 10, 7)


def sinusoid_learner():
    return build_learner("maml", Sinusoid().learner_defaults(SHAPE_10_7))
from metalab.training.config import TrainConfig
from metalab.training.loop import train


def test_tasks_are_sinusoids_in_the_papers_ranges():
    family = Sinusoid("train")
    episode = next(TaskStream(family, SHAPE_10_7, meta_batch=3, seed=0))
    assert episode.support_x.shape == (3, 10, 1) and episode.query_y.shape == (3, 7, 1)
    assert episode.support_y.is_floating_point() and episode.classes.shape == (3, 0) and episode.tasks == 3
    x = torch.cat([episode.support_x, episode.query_x], 1)
    assert x.min() >= -5 and x.max() <= 5
    for index in range(20):
        f = family.fixed_function(0, index)
        assert 0.1 <= f["amplitude"] <= 5 and 0 <= f["phase"] <= math.pi
        task = family.fixed(TaskShape(None, 5, 3), 0, index)
        assert torch.allclose(task.support_y, f["amplitude"] * torch.sin(task.support_x + f["phase"]))


def test_fixed_task_is_a_pure_function_of_seed_index_shots_queries():
    test = Sinusoid("test")
    shape = TaskShape(None, 10, 5)
    a, b = test.fixed(shape, seed=0, index=3), Sinusoid("test").fixed(shape, seed=0, index=3)
    assert all(torch.equal(getattr(a, f), getattr(b, f)) for f in ("support_x", "support_y", "query_x", "query_y"))
    assert not torch.equal(a.support_x, test.fixed(shape, seed=0, index=4).support_x)
    assert not torch.equal(a.support_x, test.fixed(shape, seed=1, index=3).support_x)
    assert test.fixed_function(0, 3) == test.fixed_function(0, 3)  # same function for every shot count
    assert test.fixed_function(0, 3) != Sinusoid("val").fixed_function(0, 3)  # validation never sees test tasks


def test_stream_resumes_from_its_state():
    stream = TaskStream(Sinusoid(), TaskShape(None, 5, 5), 2, seed=0)
    next(stream)
    state = stream.state_dict()
    expected = next(stream)
    resumed = TaskStream(Sinusoid(), TaskShape(None, 5, 5), 2, seed=99)
    resumed.load_state_dict(state)
    assert torch.equal(next(resumed).query_y, expected.query_y)


def test_bad_part_and_shots_are_clear_errors():
    with pytest.raises(ConfigError, match="part must be one of"):
        Sinusoid("holdout")
    with pytest.raises(ConfigError, match="shots must be an integer >= 1"):
        TaskStream(Sinusoid(), TaskShape(None, 0, 5), 1, seed=0)


def test_evaluate_reports_mse_with_ci_over_fixed_tasks():
    learner = sinusoid_learner()
    result = evaluate(learner, Sinusoid("test"), ways=None, shots=10, queries=20, episodes=30)
    assert result.metric == "mse" and not result.higher_is_better and result.tasks == 30
    assert result.score == -result.mean and "ways" not in result.task
    # untrained, the model predicts about 0: its MSE is near the targets' variance, E[A^2] / 2 = 4.2
    assert 1.5 < result.mean < 8 and 0 < result.ci95 < result.mean
    again = evaluate(learner, Sinusoid("test"), ways=None, shots=10, queries=20, episodes=30, batch=7)
    assert again == result


def test_maml_learns_sinusoids_quickly(tmp_path):
    config = TrainConfig(algorithm="maml", dataset="sinusoid", shots=10, queries=10, meta_batch=25, steps=150,
                         val_every=150, val_episodes=50, lr=1e-2, out=str(tmp_path / "run"), vmap=True)
    result = train(config, progress=False)
    untrained = evaluate(sinusoid_learner(), Sinusoid("val"), ways=None, shots=10, queries=10, episodes=50)
    assert result.best_val.mean < 0.7 * untrained.mean, (result.best_val, untrained)


def test_classifier_on_regression_tasks_is_a_clear_error(tmp_path):
    config = TrainConfig(algorithm="protonet", dataset="sinusoid", steps=1, out=str(tmp_path / "run"))
    with pytest.raises(ConfigError, match="protonet learns classification tasks, but sinusoid/train tasks are "
                                          "regression; use an algorithm that learns them: anil, fomaml, maml"):
        train(config, progress=False)


def test_train_and_eval_commands_on_sinusoid(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "metasgd", "--dataset", "sinusoid", "--shots", "10", "--queries", "10",
                 "--meta-batch", "5", "--steps", "6", "--val-every", "3", "--val-episodes", "10",
                 "--vmap", "true", "--out", str(run), "--no-progress"]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val_mse" in r] == [0, 3, 6]
    capsys.readouterr()
    assert main(["eval", str(run), "--shots", "10", "--episodes", "20", "--json", "--plot", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)
    assert out.strip().count("\n") == 0 and (tmp_path / "c.png").is_file()
    assert {"algorithm", "dataset", "shots", "queries", "episodes", "mse", "ci95"} <= set(result)
    assert "accuracy" not in result and result["episodes"] == 20
    assert result["paper"] is None and result["paper_source"] is None  # no checked 10-shot figure
    assert load_tasks("sinusoid", "test").name == "sinusoid/test"
