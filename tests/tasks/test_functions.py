"""A task family from a user's CSV of functions, and what registering a family takes."""

import json

import numpy as np
import pytest
import torch

from metalab.cli import main
from metalab.errors import DataError
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.functions import FunctionTasks, hashed_part
from metalab.tasks.registry import FAMILIES, load_tasks, register_family
from metalab.tasks.regression import Sinusoid
from metalab.tasks.stream import TaskStream
from metalab.training.config import TrainConfig
from metalab.training.loop import train


def write_lines(path, functions=120, points=20, seed=0, part_column=False):
    """y = a x + b, a ~ U[-2, 2], b ~ U[-1, 1], x ~ U[-3, 3]: one function per task id."""
    rng = np.random.default_rng(seed)
    lines = ["task,x,y" + (",part" if part_column else "")]
    for f in range(functions):
        a, b = rng.uniform(-2, 2), rng.uniform(-1, 1)
        part = ("train", "val", "test")[f % 3]
        for x in rng.uniform(-3, 3, points):
            lines.append(f"line{f},{x:.6f},{a * x + b:.6f}" + (f",{part}" if part_column else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_parts_hold_disjoint_functions_chosen_by_a_stable_hash(tmp_path):
    path = write_lines(tmp_path / "lines.csv")
    parts = {part: set(FunctionTasks(path, part).ids) for part in ("train", "val", "test")}
    assert not parts["train"] & parts["test"] and not parts["val"] & parts["test"] and not parts["train"] & parts["val"]
    assert set().union(*parts.values()) == {f"line{i}" for i in range(120)}
    assert all(hashed_part(task) == part for part, tasks in parts.items() for task in tasks)
    assert 0.5 < len(parts["train"]) / 120 < 0.85
    given = write_lines(tmp_path / "given.csv", part_column=True)
    assert FunctionTasks(given, "val").ids == sorted(f"line{i}" for i in range(1, 120, 3))


def test_tasks_are_distinct_points_of_one_function(tmp_path):
    family = FunctionTasks(write_lines(tmp_path / "lines.csv"), "train")
    episode = next(TaskStream(family, TaskShape(None, 5, 10), meta_batch=4, seed=0))
    assert episode.support_x.shape == (4, 5, 1) and episode.query_y.shape == (4, 10, 1)
    for t in range(4):
        x = torch.cat([episode.support_x[t], episode.query_x[t]])[:, 0]
        y = torch.cat([episode.support_y[t], episode.query_y[t]])[:, 0]
        assert len(set(x.tolist())) == 15
        slope = (y[1:] - y[0]) / (x[1:] - x[0])  # all points on one line
        assert torch.allclose(slope, slope[0].expand_as(slope), atol=1e-3)
    a, b = family.fixed(TaskShape(None, 5, 10), 0, 3), family.fixed(TaskShape(None, 5, 10), 0, 3)
    assert torch.equal(a.query_x, b.query_x)


def test_bad_csv_files_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        FunctionTasks(tmp_path / "nope.csv")
    (tmp_path / "a.csv").write_text("id,x,y\n1,2,3\n")
    with pytest.raises(DataError, match="no 'task' column"):
        FunctionTasks(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("task,x,y\nf,1,2\nf,abc,3\n")
    with pytest.raises(DataError, match=r"line 3: column 'x' holds 'abc', not a number"):
        FunctionTasks(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("task,x\nf,1\n")
    with pytest.raises(DataError, match="target column 'y'"):
        FunctionTasks(tmp_path / "c.csv")
    short = FunctionTasks(write_lines(tmp_path / "short.csv", points=8), "train")
    with pytest.raises(DataError, match=r"fewer points than shots \+ queries = 5 \+ 10 = 15: line\d+ \(8\)"):
        TaskStream(short, TaskShape(None, 5, 10), 1, seed=0)
    with pytest.raises(DataError, match="functions:PATH"):
        load_tasks("functions", "train")


def test_maml_learns_lines_from_the_csv_through_train_and_eval(tmp_path, capsys):
    path = write_lines(tmp_path / "lines.csv")
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "maml", "--dataset", f"functions:{path}", "--shots", "5", "--queries",
                 "10", "--meta-batch", "10", "--steps", "300", "--lr", "0.003", "--val-every", "100",
                 "--val-episodes", "20", "--set", "inner_lr=0.02", "--set", "inner_steps=5", "--out", str(run),
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--shots", "5", "--episodes", "40", "--json", "--plot", str(tmp_path / "p.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "mse" and result["episodes"] == 40 and "ways" not in result
    untrained = evaluate(train_free_learner(path), load_tasks(f"functions:{path}", "test"), shots=5, episodes=40)
    assert result["mse"] < 0.3 * untrained.mean, (result, untrained)
    assert (tmp_path / "p.png").is_file()


def train_free_learner(path):
    from metalab.algorithms import build_learner

    tasks = FunctionTasks(path, "train")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("maml", {**tasks.learner_defaults(TaskShape(None, 5, 10)), "inner_lr": 0.02,
                                      "inner_steps": 5})


class ShiftedSinusoid(Sinusoid):
    """A family defined outside metalab: the sinusoid moved up by 10."""

    def targets(self, x, function):
        return super().targets(x, function) + 10


def test_a_registered_family_trains_and_evaluates_with_no_change_to_shared_code(tmp_path):
    register_family("shifted", lambda part, options: ShiftedSinusoid(part))
    try:
        config = TrainConfig(algorithm="maml", dataset="shifted", shots=5, queries=5, meta_batch=4, steps=3,
                             val_every=3, val_episodes=4, out=str(tmp_path / "run"))
        result = train(config, progress=False)
        assert result.best_val.metric == "mse" and result.best_val.mean > 20  # near 0 at first: ~ 10^2 off
    finally:
        del FAMILIES["shifted"]
