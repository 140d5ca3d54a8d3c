"""The one resumable stream of training tasks, and fixed evaluation tasks, for any family."""

from __future__ import annotations

from collections.abc import Iterator

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.seeding import seeded_generator


class TaskStream:
    """Endless meta-batches of ``meta_batch`` random tasks of ``family``, resumable.

    The stream's generator (seeded with ``seed``; no global RNG is touched) is its whole
    state: :meth:`state_dict` goes into checkpoints, so a resumed run sees the same tasks.
    """

    def __init__(self, family: TaskFamily, shape: TaskShape, meta_batch: int, seed: int) -> None:
        family.check(shape)
        if not isinstance(meta_batch, int) or meta_batch < 1:
            raise ConfigError(f"meta_batch must be an integer >= 1, got {meta_batch!r}")
        self.family, self.shape, self.meta_batch = family, shape, meta_batch
        self.generator = seeded_generator(seed)

    def __iter__(self) -> Iterator[Episode]:
        return self

    def __next__(self) -> Episode:
        return Episode.stack([self.family.sample(self.shape, self.generator) for _ in range(self.meta_batch)])

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def fixed_tasks(family: TaskFamily, shape: TaskShape, *, seed: int, count: int, batch: int = 1) -> Iterator[Episode]:
    """Fixed tasks ``0..count-1`` of ``family`` in meta-batches of up to ``batch``."""
    family.check(shape)
    for start in range(0, count, batch):
        stop = min(start + batch, count)
        yield Episode.stack([family.fixed(shape, seed, i) for i in range(start, stop)])
