"""Optimizee families: tasks that are optimization problems, for learned optimizers.

A task is an objective ``f(theta)`` given by data: the optimizee model ``m(theta, x)``
(a learner's hyperparameter) evaluated on the task's points, and the family's loss of its
outputs. Its score is the objective after the optimizer's steps (lower is better), so
:func:`metalab.evaluate` reports the final loss with its 95% CI over fixed seeded problems.

:class:`Quadratics` is Andrychowicz et al. 2016's first problem (Sec. 3.1):
``f(theta) = ||W theta - y||^2`` with ``W`` 10x10 and ``y`` 10-dimensional, their entries
drawn IID from N(0, 1). As data: the rows of ``W`` are the inputs, ``y`` the targets, and the
optimizee is a linear map without bias (``theta`` its 10 weights). Support and query sets
are the same points (the objective is the task).
"""

from __future__ import annotations

from typing import Any

import torch

from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.regression import PARTS, check_part
from metalab.tasks.seeding import derive_seed


class Quadratics(TaskFamily):
    """Random quadratic objectives ``||W theta - y||^2`` (``dimension`` x ``dimension``)."""

    kind = "optimizee"
    metric = "loss"
    higher_is_better = False
    loss_name = "sum_squares"

    def __init__(self, part: str = "train", dimension: int = 10) -> None:
        check_part(part)
        self.part, self.dimension = part, dimension
        self.name, self.source = f"quadratic/{part}", "quadratic"

    def check(self, shape: TaskShape) -> None:
        """Any shape: the problem's size is the family's (``shots``/``queries`` do not apply)."""

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        w = torch.randn(self.dimension, self.dimension, generator=generator)
        y = torch.randn(self.dimension, 1, generator=generator)
        return Episode(w, y, w, y, classes=torch.zeros(0, dtype=torch.long))

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``f(theta) = sum_i (w_i . theta - y_i)^2`` of each task: ``[T, Q, 1]`` -> ``[T]``."""
        return (outputs - targets).double().pow(2).flatten(1).sum(-1)

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"dimension": self.dimension}

    def summary(self, shape: TaskShape) -> str:
        return f"{self.dimension}-d quadratics"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"optimizee": "linear", "in_channels": self.dimension, "outputs": 1, "loss": "sum_squares"}
