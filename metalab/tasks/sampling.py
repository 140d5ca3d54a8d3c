"""N-way K-shot episodes drawn from a :class:`FewShotDataset`.

Training episodes come from a :class:`EpisodeStream`, whose generator state is saved in
checkpoints so that a resumed run sees the same tasks. Evaluation episodes are fixed:
:func:`fixed_episode` is a pure function of (dataset part, ways, shots, queries, seed, index),
so every algorithm and every release is measured on identical tasks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from metalab.data.dataset import FewShotDataset
from metalab.errors import ConfigError, DataError
from metalab.tasks.episode import Episode


def check_task(dataset: FewShotDataset, ways: int, shots: int, queries: int) -> None:
    """Raise a :class:`DataError` unless ``dataset`` can supply ``ways``-way tasks of this size."""
    for name, value, low in (("ways", ways, 2), ("shots", shots, 1), ("queries", queries, 1)):
        if not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    if ways > dataset.num_classes:
        raise DataError(
            f"{ways}-way tasks need {ways} classes but {dataset.name} has only "
            f"{dataset.num_classes}; lower --ways or add classes"
        )
    need = shots + queries
    short = torch.nonzero(dataset.sizes < need).flatten().tolist()
    if short:
        listed = ", ".join(f"{dataset.class_names[c]} ({int(dataset.sizes[c])})" for c in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        raise DataError(
            f"{len(short)} class(es) of {dataset.name} have fewer images than shots + queries = "
            f"{shots} + {queries} = {need}: {listed}{more}. Lower --shots or --queries, or add "
            "images to (or remove) those classes"
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
    labels = torch.arange(ways)
    return Episode(
        support_x=images[:, :shots].reshape(ways * shots, *images.shape[2:]),
        support_y=labels.repeat_interleave(shots),
        query_x=images[:, shots:].reshape(ways * queries, *images.shape[2:]),
        query_y=labels.repeat_interleave(queries),
        classes=classes,
    )


def episode_seed(seed: int, index: int) -> int:
    """A 63-bit seed for fixed episode ``index`` (SeedSequence keeps nearby seeds independent)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(2, np.uint32).astype(np.uint64) @ [1, 1 << 31])


def fixed_episode(
    dataset: FewShotDataset, ways: int, shots: int, queries: int, seed: int, index: int
) -> Episode:
    """Evaluation episode ``index``: the same task on every run, machine and algorithm."""
    generator = torch.Generator().manual_seed(episode_seed(seed, index))
    return sample_episode(dataset, ways, shots, queries, generator)


def fixed_episodes(
    dataset: FewShotDataset, ways: int, shots: int, queries: int, *, seed: int, count: int, batch: int = 1
) -> Iterator[Episode]:
    """Fixed episodes ``0..count-1`` in meta-batches of up to ``batch`` tasks."""
    check_task(dataset, ways, shots, queries)
    for start in range(0, count, batch):
        stop = min(start + batch, count)
        yield Episode.stack([fixed_episode(dataset, ways, shots, queries, seed, i) for i in range(start, stop)])


class EpisodeStream:
    """Endless meta-batches of random training episodes, resumable from :meth:`state_dict`.

    Args:
        dataset: where classes and images come from.
        ways, shots, queries: the task shape.
        meta_batch: tasks per batch.
        seed: seeds this stream's own generator (no global RNG is touched).
    """

    def __init__(
        self, dataset: FewShotDataset, ways: int, shots: int, queries: int, meta_batch: int, seed: int
    ) -> None:
        check_task(dataset, ways, shots, queries)
        if meta_batch < 1:
            raise ConfigError(f"meta_batch must be >= 1, got {meta_batch}")
        self.dataset, self.ways, self.shots, self.queries = dataset, ways, shots, queries
        self.meta_batch = meta_batch
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[Episode]:
        return self

    def __next__(self) -> Episode:
        return Episode.stack(
            [
                sample_episode(self.dataset, self.ways, self.shots, self.queries, self.generator)
                for _ in range(self.meta_batch)
            ]
        )

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
