"""Few-shot regression on a user's own functions, read from a CSV file.

Each task is one function, given as a set of sampled points; a task's support and query
sets are distinct random points of one function. The CSV has a header row with:

- ``task``: the function's id (any text); its rows are its points;
- ``y`` (or ``y1``, ``y2``, ...): the target value(s);
- ``part`` (optional): ``train``, ``val`` or ``test`` for each function; without it, each
  function's part follows from a hash of its id (about 70% / 10% / 20%), the same on every
  machine, so no function is both trained on and tested;
- every other column: a numeric input.

Scored like the other regression families, by the per-task query mean squared error.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from metalab.errors import DataError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskShape
from metalab.tasks.regression import PARTS, RegressionTasks

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner

_TARGET = re.compile(r"y\d*")


def hashed_part(task: str) -> str:
    """``train`` / ``val`` / ``test`` (70 / 10 / 20%) from a stable hash of a task id."""
    fraction = int.from_bytes(hashlib.sha256(task.encode()).digest()[:8], "big") / 2**64
    return "test" if fraction < 0.2 else "val" if fraction < 0.3 else "train"


def read_functions(path: str | Path) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], dict[str, str], list[str], list[str]]:
    """``{task: (x [n, d_in], y [n, d_out])}``, ``{task: part}``, input and target column names."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"functions file {path} does not exist; give a CSV file with columns task, y and inputs",
                        fields=("dataset",))
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        rows = list(reader)
    if "task" not in header:
        raise DataError(f"{path} has no 'task' column (its header: {header}); name the column of function ids 'task'")
    targets = [name for name in header if _TARGET.fullmatch(name)]
    inputs = [name for name in header if name not in ("task", "part") and name not in targets]
    if not targets or not inputs:
        raise DataError(f"{path} needs at least one input column and a target column 'y' (or y1, y2, ...); "
                        f"its header: {header}")
    column = {name: i for i, name in enumerate(header)}
    points: dict[str, list[list[float]]] = {}
    parts: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} values for {len(header)} columns")
        task = row[column["task"]].strip()
        try:
            points.setdefault(task, []).append([float(row[column[name]]) for name in inputs + targets])
        except ValueError:
            bad = next(name for name in inputs + targets if not _is_number(row[column[name]]))
            raise DataError(f"{path}, line {line}: column {bad!r} holds {row[column[bad]]!r}, not a number") from None
        part = row[column["part"]].strip() if "part" in column else hashed_part(task)
        if part not in PARTS:
            raise DataError(f"{path}, line {line}: part must be one of {sorted(PARTS)}, got {part!r}")
        if parts.setdefault(task, part) != part:
            raise DataError(f"{path}, line {line}: task {task!r} is in parts {parts[task]!r} and {part!r}; give one")
    functions = {}
    for task, values in points.items():
        table = torch.tensor(values, dtype=torch.float32)
        functions[task] = (table[:, : len(inputs)], table[:, len(inputs):])
    return functions, parts, inputs, targets


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


class FunctionTasks(RegressionTasks):
    """The functions of one part of a CSV file; a task is ``shots + queries`` distinct points
    of one function, drawn at random."""

    def __init__(self, path: str | Path, part: str = "train") -> None:
        super().__init__(part)
        functions, parts, self.inputs, self.outputs = read_functions(path)
        self.functions = {task: xy for task, xy in sorted(functions.items()) if parts[task] == part}
        self.ids = list(self.functions)
        self.name, self.source = f"functions:{path}/{part}", f"functions:{path}"
        if not self.ids:
            raise DataError(f"{path} has no {part} functions; add a 'part' column or more functions")

    def check(self, shape: TaskShape) -> None:
        super().check(shape)
        need = shape.shots + shape.queries
        short = [(task, len(self.functions[task][0])) for task in self.ids if len(self.functions[task][0]) < need]
        if short:
            listed = ", ".join(f"{task} ({n})" for task, n in short[:5])
            raise DataError(
                f"{len(short)} function(s) of {self.name} have fewer points than shots + queries = "
                f"{shape.shots} + {shape.queries} = {need}: {listed}. Lower shots or queries, or give "
                "those functions more points", fields=("shots", "queries"),
            )

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        x, y = self.functions[self.ids[int(torch.randint(len(self.ids), (1,), generator=generator))]]
        picks = torch.randperm(len(x), generator=generator)[: shape.shots + shape.queries]
        k = shape.shots
        return Episode(x[picks[:k]], y[picks[:k]], x[picks[k:]], y[picks[k:]], classes=torch.zeros(0, dtype=torch.long))

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {**super().learner_defaults(shape), "in_channels": len(self.inputs), "outputs": len(self.outputs)}

    def plot(self, learner: MetaLearner, shape: TaskShape, *, seed: int, path: str | Path, title: str = "") -> None:
        """One-input functions: the first fixed tasks' points, support set and adapted curve."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if len(self.inputs) != 1:
            super().plot(learner, shape, seed=seed, path=path, title=title)
        was_training = learner.training
        learner.eval()
        tasks = min(4, len(self.ids))
        fig, axes = plt.subplots(1, tasks, figsize=(3.4 * tasks, 3), squeeze=False)
        try:
            for index, ax in zip(range(tasks), axes[0]):
                task = self.fixed(shape, seed, index)
                every = torch.cat([task.support_x, task.query_x])
                grid = torch.linspace(float(every.min()), float(every.max()), 200).unsqueeze(-1)
                with torch.no_grad():
                    after = learner.adapt(task.support_x, task.support_y, 0)(grid)
                ax.plot(task.query_x, task.query_y[:, 0], ".", color="k", label="query points")
                ax.plot(grid, after[:, 0], "-", color="tab:red", label="adapted")
                ax.plot(task.support_x, task.support_y[:, 0], "^", color="tab:blue", label=f"{shape.shots} support points")
                ax.set(title=f"fixed task {index}", xlabel=self.inputs[0])
        finally:
            learner.train(was_training)
        axes[0][0].legend(loc="best", fontsize=7)
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
