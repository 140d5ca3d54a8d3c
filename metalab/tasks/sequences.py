"""Santoro et al. (2016)'s sequential episodes: classify each image before its label is shown.

An episode draws ``ways`` classes, gives them labels in a fresh random assignment, and shows
``shots`` images of each (the paper: 5 classes x 10 instances = 50 steps) in random order. The
label of step t is revealed at step t+1, so the learner predicts every step online, from the
images and labels before it. Such a task has no support set: the sequence is the query set
(``query_x`` ``[N*K, C, H, W]`` in presentation order, ``query_y`` its labels), and a learner
of ``sequence`` tasks predicts each query from the queries and labels before it.

Training sequences can be augmented (the ``task:`` option ``affine``, training only): each image
gets its own small random affine map (:func:`metalab.tasks.alphabets.random_affine`), as Santoro
et al. augmented with random rotations and translations besides the quarter-turned classes.

Scored by accuracy over all steps, and by accuracy on the i-th presentation of a class
(:func:`instance_numbers`): the paper's Table 1 reports the 1st, 2nd, 3rd, 4th, 5th and 10th.
"""

from __future__ import annotations

from typing import Any

import torch

from metalab.data.dataset import FewShotDataset
from metalab.errors import ConfigError, DataError
from metalab.tasks.alphabets import random_affine
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape, check_counts
from metalab.tasks.image import sample_episode

REPORTED_INSTANCES = (1, 2, 3, 4, 5, 10)  # Santoro et al. 2016, Table 1


def instance_numbers(labels: torch.Tensor) -> torch.Tensor:
    """``[..., L]`` labels -> ``[..., L]`` 1-based count of each step's presentation of its class."""
    same = labels.unsqueeze(-1) == labels.unsqueeze(-2)  # [..., L, L]: step t vs step s
    return torch.tril(same.long()).sum(-1)


def instance_accuracy(outputs: torch.Tensor, targets: torch.Tensor, instances: int) -> torch.Tensor:
    """``[T, L, N]`` logits and ``[T, L]`` labels -> ``[T, instances]`` accuracy (0..1, float64) of
    each task on the 1st..``instances``-th presentation of its classes (NaN where there is none)."""
    correct = (outputs.argmax(-1) == targets).double()
    numbers = instance_numbers(targets)
    out = torch.full((targets.shape[0], instances), float("nan"), dtype=torch.float64)
    for i in range(1, instances + 1):
        mask = (numbers == i).double()
        count = mask.sum(-1)
        out[:, i - 1] = torch.where(count > 0, (correct * mask).sum(-1) / count.clamp_min(1), out[:, i - 1])
    return out


class OmniglotSequences(TaskFamily):
    """Sequential episodes of ``ways`` classes x ``shots`` instances from a dataset's classes.

    Args:
        dataset: the classes and images of one part (Omniglot's rotated classes serve as the
            paper's rotation augmentation).
        source: the dataset name it was loaded by.
        details: extra keys for result descriptions (the Omniglot split).
        affine: strength of a random affine map per image (:func:`random_affine`; 0: none).
    """

    kind = "sequence"
    metric = "accuracy"
    higher_is_better = True
    scale = 100.0
    loss_name = "cross_entropy"

    def __init__(self, dataset: FewShotDataset, *, source: str = "", details: dict[str, Any] | None = None,
                 affine: float = 0.0) -> None:
        self.dataset, self.source, self.affine = dataset, source, affine
        self.name = f"{dataset.name} sequences"
        self.details = dict(details or {})

    def check(self, shape: TaskShape) -> None:
        check_counts(shape)
        ways = shape.ways
        if not isinstance(ways, int) or isinstance(ways, bool) or ways < 2:
            raise ConfigError(f"ways must be an integer >= 2, got {ways!r}", fields=("ways",))
        if ways > self.dataset.num_classes:
            raise DataError(f"{ways}-class sequences need {ways} classes but {self.dataset.name} has "
                            f"{self.dataset.num_classes}; lower ways", fields=("ways",))
        if int(self.dataset.sizes.min()) < shape.shots:
            raise DataError(f"sequences of {shape.shots} instances per class need {shape.shots} images of each "
                            f"class; {self.dataset.name} has classes of {int(self.dataset.sizes.min())}; lower "
                            "shots", fields=("shots",))

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        """``ways`` classes in random order (label i is the i-th drawn: a fresh assignment each
        episode), ``shots`` distinct images of each, shown in a random order (each image then
        under its own random affine map if ``affine`` > 0)."""
        task = sample_episode(self.dataset, shape.ways, shape.shots, 0, generator)
        order = torch.randperm(len(task.support_y), generator=generator)
        images = task.support_x[order]
        if self.affine:
            images = random_affine(images, generator, self.affine)
        return Episode(
            support_x=task.support_x[:0], support_y=task.support_y[:0],
            query_x=images, query_y=task.support_y[order], classes=task.classes,
        )

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs.argmax(-1) == targets).double().mean(-1)

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """Accuracy over all steps and on the instances the paper reports (``accuracy_1st``...)."""
        shots = int(instance_numbers(targets[:1]).max())
        by_instance = instance_accuracy(outputs, targets, shots).nanmean(0)
        out = {self.metric: float(self.task_scores(outputs, targets).mean())}
        for i in REPORTED_INSTANCES:
            if i <= shots:
                out[f"accuracy_{ordinal(i)}"] = float(by_instance[i - 1])
        return out

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"ways": shape.ways, "instances": shape.shots, "sequence": True, **self.details}

    def summary(self, shape: TaskShape) -> str:
        return f"{shape.ways}-class sequences of {shape.shots} instances"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"outputs": shape.ways}

    def learner_requirements(self, shape: TaskShape) -> dict[str, Any]:
        return {"in_channels": int(self.dataset.images.shape[1])}


def ordinal(i: int) -> str:
    """1 -> ``1st``, 2 -> ``2nd``, 10 -> ``10th``."""
    return f"{i}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(i if i < 20 else i % 10, 'th')}"
