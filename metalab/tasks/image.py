"""Few-shot image classification: N-way K-shot episodes drawn from a :class:`FewShotDataset`.

:class:`ImageClassification` is the task family of Omniglot and of a user's image folders.
Training episodes come from a resumable stream (:class:`EpisodeStream` is the shorthand for
a dataset); evaluation episode ``i`` is a pure function of (dataset part, ways, shots,
queries, seed, i), so every learner and every release is measured on identical tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from metalab.data.dataset import FewShotDataset
from metalab.errors import ConfigError, DataError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape, check_counts
from metalab.tasks.stream import TaskStream, fixed_tasks


def check_task(dataset: FewShotDataset, ways: int, shots: int, queries: int) -> None:
    """Raise a :class:`DataError` unless ``dataset`` can supply ``ways``-way tasks of this size."""
    if not isinstance(ways, int) or isinstance(ways, bool) or ways < 2:
        raise ConfigError(f"ways must be an integer >= 2, got {ways!r}", fields=("ways",))
    check_counts(TaskShape(ways, shots, queries))
    if ways > dataset.num_classes:
        raise DataError(
            f"{ways}-way tasks need {ways} classes but {dataset.name} has only "
            f"{dataset.num_classes}; lower ways or add classes", fields=("ways",),
        )
    need = shots + queries
    short = torch.nonzero(dataset.sizes < need).flatten().tolist()
    if short:
        listed = ", ".join(f"{dataset.class_names[c]} ({int(dataset.sizes[c])})" for c in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        raise DataError(
            f"{len(short)} class(es) of {dataset.name} have fewer images than shots + queries = "
            f"{shots} + {queries} = {need}: {listed}{more}. Lower shots or queries, or add "
            "images to (or remove) those classes", fields=("shots", "queries"),
        )


def sample_episode(
    dataset: FewShotDataset, ways: int, shots: int, queries: int, generator: torch.Generator
) -> Episode:
    """Draw ``ways`` distinct classes, then ``shots + queries`` distinct images of each."""
    classes = torch.randperm(dataset.num_classes, generator=generator)[:ways]
    sizes = dataset.sizes[classes]
    # Distinct picks per class in one op: random keys, positions past a class's size last.
    keys = torch.rand(ways, int(sizes.max()), generator=generator)
    keys[torch.arange(keys.shape[1]) >= sizes[:, None]] = 2.0
    picks = keys.argsort(dim=1)[:, : shots + queries]
    images = dataset.gather(classes, picks)  # [N, K+Q, C, H, W]
    return episode_of(images, classes, shots)


def episode_of(images: torch.Tensor, classes: torch.Tensor, shots: int) -> Episode:
    """An episode from ``[N, K+Q, C, H, W]`` images of ``classes``: the first ``shots`` of each
    class are its support set, the rest its queries; class ``i`` is labelled ``i``."""
    ways, queries = images.shape[0], images.shape[1] - shots
    labels = torch.arange(ways)
    return Episode(
        support_x=images[:, :shots].reshape(ways * shots, *images.shape[2:]),
        support_y=labels.repeat_interleave(shots),
        query_x=images[:, shots:].reshape(ways * queries, *images.shape[2:]),
        query_y=labels.repeat_interleave(queries),
        classes=classes,
    )


class ImageClassification(TaskFamily):
    """N-way K-shot classification of a dataset's images; scored by query accuracy (%).

    Args:
        dataset: the classes and images of one part (train, val or test).
        source: the dataset name it was loaded by (``omniglot``, a folder path).
        details: extra keys for result descriptions (the Omniglot split).
    """

    kind = "classification"
    metric = "accuracy"
    higher_is_better = True
    scale = 100.0
    loss_name = "cross_entropy"

    def __init__(self, dataset: FewShotDataset, *, source: str = "", details: dict[str, Any] | None = None) -> None:
        self.dataset, self.name, self.source = dataset, dataset.name, source
        self.details = dict(details or {})

    def check(self, shape: TaskShape) -> None:
        check_task(self.dataset, shape.ways, shape.shots, shape.queries)

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        return sample_episode(self.dataset, shape.ways, shape.shots, shape.queries, generator)

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs.argmax(-1) == targets).double().mean(-1)

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"ways": shape.ways, "shots": shape.shots, "queries": shape.queries, **self.details}

    def summary(self, shape: TaskShape) -> str:
        return f"{shape.ways}-way {shape.shots}-shot"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        """A classification head of ``ways`` outputs for images of the dataset's size."""
        return {"outputs": shape.ways, "image_size": int(self.dataset.images.shape[-1])}

    def learner_requirements(self, shape: TaskShape) -> dict[str, Any]:
        return {"in_channels": int(self.dataset.images.shape[1])}


def fixed_episode(dataset: FewShotDataset, ways: int, shots: int, queries: int, seed: int, index: int) -> Episode:
    """Evaluation episode ``index`` of ``dataset``: the same task on every run, machine and learner."""
    return ImageClassification(dataset).fixed(TaskShape(ways, shots, queries), seed, index)


def fixed_episodes(
    dataset: FewShotDataset, ways: int, shots: int, queries: int, *, seed: int, count: int, batch: int = 1
) -> Iterator[Episode]:
    """Fixed episodes ``0..count-1`` of ``dataset`` in meta-batches of up to ``batch`` tasks."""
    return fixed_tasks(ImageClassification(dataset), TaskShape(ways, shots, queries), seed=seed, count=count, batch=batch)


class EpisodeStream(TaskStream):
    """Endless meta-batches of random training episodes of ``dataset``, resumable.

    Args:
        dataset: where classes and images come from.
        ways, shots, queries: the task shape.
        meta_batch: tasks per batch.
        seed: seeds this stream's own generator (no global RNG is touched).
    """

    def __init__(
        self, dataset: FewShotDataset, ways: int, shots: int, queries: int, meta_batch: int, seed: int
    ) -> None:
        super().__init__(ImageClassification(dataset), TaskShape(ways, shots, queries), meta_batch, seed)
