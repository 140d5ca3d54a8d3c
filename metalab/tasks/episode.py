"""The typed episode: a task's support and query sets."""

from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass(frozen=True)
class Episode:
    """An N-way K-shot task with Q queries per class, or a meta-batch of T such tasks.

    Labels are remapped to ``0..ways-1`` in the order of ``classes``; support and query are
    class-major (the K shots of class 0, then of class 1, ...). A batched episode has a
    leading task dimension on every field.

    Attributes:
        support_x: ``[N*K, C, H, W]`` (or ``[T, N*K, ...]``); for regression ``[K, d_in]``.
        support_y: ``[N*K]`` int64 labels (regression: ``[K, d_out]`` floats).
        query_x: ``[N*Q, C, H, W]`` (or ``[T, N*Q, ...]``).
        query_y: ``[N*Q]``.
        classes: ``[N]`` (or ``[T, N]``) the dataset's class ids, so predictions map back to
            class names; empty for regression.
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    classes: torch.Tensor

    @property
    def batched(self) -> bool:
        return self.classes.ndim == 2

    @property
    def tasks(self) -> int:
        """Number of tasks: T for a batch, 1 otherwise."""
        return self.classes.shape[0] if self.classes.ndim == 2 else 1

    @property
    def ways(self) -> int:
        return self.classes.shape[-1]

    def task(self, index: int) -> Episode:
        """Task ``index`` of a batched episode."""
        return Episode(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Episode:
        return Episode(
            *(getattr(self, f.name).to(device, non_blocking=non_blocking) for f in dataclasses.fields(self))
        )

    @staticmethod
    def stack(episodes: list[Episode]) -> Episode:
        """A batched episode from single tasks of the same shape."""
        return Episode(
            *(torch.stack([getattr(e, f.name) for e in episodes]) for f in dataclasses.fields(Episode))
        )
