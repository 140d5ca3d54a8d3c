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

from metalab.data.dataset import FewShotDataset
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


class ClassifierOptimizees(TaskFamily):
    """Training a small classifier as an optimization problem (Andrychowicz et al. 2016, Sec. 3.2:
    an MLP of 20 sigmoid units on MNIST, minibatches of 128). A task is a set of labelled
    examples; its objective is the classifier's mean cross-entropy on them, and its score the
    cross-entropy on the whole set after the optimizer's steps. Subclasses draw the examples."""

    kind = "optimizee"
    metric = "loss"
    higher_is_better = False
    loss_name = "cross_entropy"
    features: int
    classes: int

    def check(self, shape: TaskShape) -> None:
        """Any shape: a task's size is the family's."""

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each task's mean cross-entropy: ``[T, Q, classes]`` logits, ``[T, Q]`` labels -> ``[T]``."""
        losses = torch.nn.functional.cross_entropy(outputs.flatten(0, 1).double(), targets.flatten(), reduction="none")
        return losses.view(targets.shape).mean(-1)

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"examples": self.examples, "features": self.features, "classes": self.classes}

    def summary(self, shape: TaskShape) -> str:
        return f"{self.name.split('/')[0]} classifiers"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"optimizee": "mlp", "in_channels": self.features, "hidden": 20, "outputs": self.classes,
                "loss": "cross_entropy", "batch_size": 128}


class DigitsMLP(ClassifierOptimizees):
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes; MNIST is not available
    offline): the images are split once into train/val/test parts (60/10/30%), and a task is
    ``examples`` images of its part drawn at random. Features are pixel values / 16."""

    features, classes = 64, 10

    def __init__(self, part: str = "train", examples: int = 400) -> None:
        check_part(part)
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise ImportError("the digits optimizees need scikit-learn: pip install 'metalab[automl]'") from error
        digits = load_digits()
        order = torch.randperm(len(digits.target), generator=torch.Generator().manual_seed(0))
        cut = {"train": order[: int(0.6 * len(order))], "val": order[int(0.6 * len(order)): int(0.7 * len(order))],
               "test": order[int(0.7 * len(order)):]}[part]
        self.x = torch.tensor(digits.data, dtype=torch.float32)[cut] / 16
        self.y = torch.tensor(digits.target, dtype=torch.long)[cut]
        self.part, self.examples = part, min(examples, len(cut))
        self.name, self.source = f"digits/{part}", "digits"

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        picks = torch.randperm(len(self.y), generator=generator)[: self.examples]
        x, y = self.x[picks], self.y[picks]
        return Episode(x, y, x, y, classes=torch.arange(self.classes))


class OmniglotMLP(ClassifierOptimizees):
    """Omniglot characters at 28x28 as an optimizee: a task is a random ``classes``-class subset
    of the part's characters with all their drawings (20 each), flattened to 784 features."""

    def __init__(self, dataset: FewShotDataset, part: str = "train", classes: int = 10) -> None:
        check_part(part)
        self.dataset, self.part, self.classes = dataset, part, classes
        self.features = int(dataset.images[0].numel())
        self.examples = classes * int(dataset.sizes.min())
        self.name, self.source = f"omniglot-mlp/{part}", "omniglot-mlp"

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        per_class = int(self.dataset.sizes.min())
        classes = torch.randperm(self.dataset.num_classes, generator=generator)[: self.classes]
        picks = torch.arange(per_class).expand(self.classes, -1)
        x = self.dataset.gather(classes, picks).flatten(2).flatten(0, 1)
        y = torch.arange(self.classes).repeat_interleave(per_class)
        return Episode(x, y, x, y, classes=classes)
