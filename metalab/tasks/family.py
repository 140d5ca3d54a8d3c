"""The task-family protocol: what a kind of task is, in one object per family.

A family says how to draw a task (training tasks from a seeded stream, fixed evaluation
task ``i`` as a pure function of the seed and ``i``), how a task model's outputs are scored
(the loss, the logged metrics, the headline metric and its direction), which learner
hyperparameters it implies, and how to plot an adapted model if it can. The training loop,
the evaluator and the CLI only call these methods, so a new family is a new module
registered in :mod:`metalab.tasks.registry`, and touches no shared code.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.losses import LOSSES
from metalab.tasks.seeding import derive_seed, seeded_generator

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner


@dataclasses.dataclass(frozen=True)
class TaskShape:
    """The size of a task: ``ways`` classes (None for a family without classes), ``shots``
    support and ``queries`` query examples (per class for classification)."""

    ways: int | None
    shots: int
    queries: int


def check_counts(shape: TaskShape) -> None:
    """``shots`` and ``queries`` are integers >= 1."""
    for name in ("shots", "queries"):
        value = getattr(shape, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


class TaskFamily(abc.ABC):
    """One part (train, val or test) of a family of tasks.

    Class attributes:
        kind: what the family's task models output; a learner lists the kinds it supports
            in ``task_kinds`` (``classification``: ``[Q, ways]`` logits; ``regression``:
            ``[Q, d]`` values).
        metric: the headline score's name, e.g. ``accuracy`` or ``mse``.
        higher_is_better: the metric's direction (validation keeps the best).
        scale: the metric as reported is ``scale`` times its raw value (100: percent).
        loss_name: the loss of task models' outputs, a key of :data:`metalab.tasks.losses.LOSSES`.

    Attributes:
        name: where the tasks come from, e.g. ``omniglot/vinyals/test`` (logs).
        source: the dataset name the tasks were loaded by (paper figures are keyed by it).
    """

    kind: ClassVar[str]
    metric: ClassVar[str]
    higher_is_better: ClassVar[bool]
    scale: ClassVar[float] = 1.0
    loss_name: ClassVar[str]
    name: str = ""
    source: str = ""

    # Drawing tasks -------------------------------------------------------------------------
    def check(self, shape: TaskShape) -> None:
        """Raise a :class:`~metalab.errors.MetalabError` unless the family can supply tasks of ``shape``."""
        check_counts(shape)

    @abc.abstractmethod
    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        """One task of ``shape`` drawn with ``generator`` (the only source of randomness)."""

    def fixed_seed(self, seed: int, index: int) -> int:
        """The seed of fixed task ``index``; a family may add a salt of its own."""
        return derive_seed(seed, index)

    def fixed(self, shape: TaskShape, seed: int, index: int) -> Episode:
        """Evaluation task ``index``: the same on every run, machine and learner."""
        return self.sample(shape, seeded_generator(self.fixed_seed(seed, index)))

    # Scoring ---------------------------------------------------------------------------------
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean loss of task-model outputs ``[..., Q, out]`` against targets ``[..., Q(, d)]``."""
        return LOSSES[self.loss_name](outputs, targets)

    @abc.abstractmethod
    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The raw headline metric of each task: ``[T, Q, ...]`` outputs -> ``[T]`` (float64)."""

    def score_breakdown(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """Secondary per-task scores ``name -> [T]`` that evaluation reports beside the headline
        with their own CIs (e.g. the return after each adaptation step); none by default."""
        return {}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """What the training log records of a meta-batch's outputs (raw units)."""
        return {self.metric: float(self.task_scores(outputs, targets).mean())}

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        """The task's description in results (the ``eval --json`` keys besides the metric)."""
        return {"shots": shape.shots, "queries": shape.queries}

    def summary(self, shape: TaskShape) -> str:
        """A few words for printed results, e.g. ``5-way 1-shot``."""
        return f"{shape.shots}-shot"

    # What it implies for learners --------------------------------------------------------
    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        """Hyperparameters the family suggests (a run's own ``learner`` values override them)."""
        return {}

    def learner_requirements(self, shape: TaskShape) -> dict[str, Any]:
        """Hyperparameters the data fixes (override everything, e.g. image channels)."""
        return {}

    def plot(self, learner: MetaLearner, shape: TaskShape, *, seed: int, path: str | Path, title: str = "") -> None:
        """Plot adapted task models on the first fixed tasks, where the family can."""
        raise ConfigError(f"{self.name} tasks have no plot of adapted models; leave out plot")
