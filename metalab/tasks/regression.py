"""Few-shot regression families: each task is a function, its support and query sets points on it.

A family draws whole tasks (a function, then points on it) and produces the same
:class:`Episode` as classification: ``support_x [K, d_in]``, ``support_y [K, d_out]`` float
targets, ``query_x [Q, d_in]``, ``query_y [Q, d_out]``, and an empty ``classes``. The function
of fixed task ``i`` is drawn before its points, so it is the same for every number of shots
and queries. Scored by the per-task query mean squared error (lower is better).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.seeding import derive_seed, seeded_generator

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner

PARTS = {"test": 0, "train": 1, "val": 2}  # salts: validation never sees the test tasks


def check_part(part: str) -> None:
    if part not in PARTS:
        raise ConfigError(f"part must be one of {sorted(PARTS)}, got {part!r}")


class RegressionTasks(TaskFamily):
    """A family of regression tasks, one part (``train``/``val``/``test``) of it.

    Subclasses implement ``sample``. The learner defaults are Finn et al.'s for the sinusoid
    (40-40 ReLU MLP, inner step 0.01, as many inner steps at evaluation as in training).
    """

    kind = "regression"
    metric = "mse"
    higher_is_better = False
    loss_name = "mse"

    def __init__(self, part: str = "train") -> None:
        check_part(part)
        self.part = part

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs - targets).double().pow(2).flatten(1).mean(-1)

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"backbone": "mlp", "in_channels": 1, "hidden": 40, "outputs": 1, "inner_lr": 0.01,
                "eval_inner_steps": None, "loss": "mse"}


class DrawnFunctions(RegressionTasks):
    """A regression family whose tasks are random functions of a parametric form, drawn
    with their input points (the sinusoid)."""

    @abc.abstractmethod
    def draw_function(self, generator: torch.Generator) -> dict[str, float]:
        """The parameters of one task's function."""

    @abc.abstractmethod
    def draw_inputs(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``[count, d_in]`` input points."""

    @abc.abstractmethod
    def targets(self, x: torch.Tensor, function: dict[str, float]) -> torch.Tensor:
        """``[n, d_out]`` targets of the task ``function`` at ``[n, d_in]`` inputs."""

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        """One task: ``shots`` support and ``queries`` query points of one random function."""
        function = self.draw_function(generator)
        x = self.draw_inputs(shape.shots + shape.queries, generator)
        y = self.targets(x, function)
        k = shape.shots
        return Episode(x[:k], y[:k], x[k:], y[k:], classes=torch.zeros(0, dtype=torch.long))

    def fixed_function(self, seed: int, index: int) -> dict[str, float]:
        """The function of fixed task ``index`` (for plots)."""
        return self.draw_function(seeded_generator(self.fixed_seed(seed, index)))


@dataclasses.dataclass(frozen=True)
class Range:
    """A uniform range ``U[low, high]``."""

    low: float
    high: float

    def draw(self, generator: torch.Generator, *shape: int) -> torch.Tensor:
        return self.low + (self.high - self.low) * torch.rand(*shape, generator=generator)


class Sinusoid(DrawnFunctions):
    """Finn et al. 2017 (Sec. 5.1): ``y = A sin(x + phase)``, ``A ~ U[0.1, 5]``,
    ``phase ~ U[0, pi]``, ``x ~ U[-5, 5]``; learners default to the 40-40 ReLU MLP and one
    inner step of size 0.01."""

    amplitude = Range(0.1, 5.0)
    phase = Range(0.0, math.pi)
    x = Range(-5.0, 5.0)

    def __init__(self, part: str = "train") -> None:
        super().__init__(part)
        self.name, self.source = f"sinusoid/{part}", "sinusoid"

    def draw_function(self, generator: torch.Generator) -> dict[str, float]:
        return {"amplitude": float(self.amplitude.draw(generator, 1)), "phase": float(self.phase.draw(generator, 1))}

    def draw_inputs(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return self.x.draw(generator, count, 1)

    def targets(self, x: torch.Tensor, function: dict[str, float]) -> torch.Tensor:
        return function["amplitude"] * torch.sin(x + function["phase"])

    def plot(self, learner: MetaLearner, shape: TaskShape, *, seed: int, path: str | Path, title: str = "") -> None:
        """Fixed tasks 0-3: the true curve, the support points, and the learner's prediction
        before (if it has an unadapted model) and after adaptation (Finn et al. 2017, Fig. 2)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        grid = torch.linspace(self.x.low, self.x.high, 200).unsqueeze(-1)
        was_training = learner.training
        learner.eval()
        tasks = 4
        fig, axes = plt.subplots(1, tasks, figsize=(3.4 * tasks, 3), sharey=True)
        try:
            for index, ax in zip(range(tasks), axes):
                task = self.fixed(TaskShape(None, shape.shots, 1), seed, index)
                function = self.fixed_function(seed, index)
                with torch.no_grad():
                    prior = learner.prior()
                    after = learner.adapt(task.support_x, task.support_y, 0)(grid)
                    ax.plot(grid, self.targets(grid, function), "k-", lw=1.5, label="task")
                    if prior is not None:
                        ax.plot(grid, prior(grid), ":", color="tab:gray", label="before adaptation")
                ax.plot(grid, after, "-", color="tab:red", label="adapted")
                ax.plot(task.support_x, task.support_y, "^", color="tab:blue", label=f"{shape.shots} support points")
                ax.set(title=f"task {index}: A={function['amplitude']:.2f}, phase={function['phase']:.2f}", xlabel="x")
        finally:
            learner.train(was_training)
        axes[0].legend(loc="lower left", fontsize=7)
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
