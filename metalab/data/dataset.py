"""The in-memory container every few-shot data source produces."""

from __future__ import annotations

import dataclasses

import torch

from metalab.errors import DataError


@dataclasses.dataclass(frozen=True, eq=False)
class FewShotDataset:
    """Images grouped by class, held in memory as one tensor.

    Class ``c`` owns ``images[offsets[c] : offsets[c] + sizes[c]]``, shown turned by
    ``rotations[c]`` quarter turns (Omniglot's rotated classes share their base images).

    Attributes:
        images: ``[n_images, channels, height, width]`` float32.
        offsets, sizes, rotations: ``[classes]`` int64.
        class_names: one readable name per class.
        name: where the data came from, e.g. ``omniglot/vinyals/train``.
    """

    images: torch.Tensor
    offsets: torch.Tensor
    sizes: torch.Tensor
    rotations: torch.Tensor
    class_names: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        n = len(self.class_names)
        if n == 0:
            raise DataError(f"dataset {self.name} has no classes")
        for field in ("offsets", "sizes", "rotations"):
            if getattr(self, field).shape != (n,):
                raise DataError(f"dataset {self.name}: {field} must have one entry per class")
        if int((self.offsets + self.sizes).max()) > len(self.images) or int(self.offsets.min()) < 0:
            raise DataError(f"dataset {self.name}: a class points outside its images")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def gather(self, classes: torch.Tensor, picks: torch.Tensor) -> torch.Tensor:
        """Images ``picks[i, j]`` (positions within class ``classes[i]``): ``[N, M, C, H, W]``."""
        x = self.images[self.offsets[classes, None] + picks]
        turns = self.rotations[classes]
        if bool(turns.any()):
            x = x.clone()
            for k in (1, 2, 3):
                rows = turns == k
                if bool(rows.any()):
                    x[rows] = torch.rot90(x[rows], k, dims=(-2, -1))
        return x
