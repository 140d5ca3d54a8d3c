"""Build a :class:`FewShotDataset` for one part of a named dataset."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from metalab.data import splits
from metalab.data.dataset import FewShotDataset
from metalab.data.folder import image_folder
from metalab.data.omniglot import DRAWERS, SETS, SIDE, find_omniglot, load_set
from metalab.data.preprocess import Preprocess
from metalab.errors import DataError


@lru_cache(maxsize=2)
def _omniglot_images(folder: Path, preprocess: Preprocess) -> torch.Tensor:
    """All 1623 x 20 Omniglot images, preprocessed: ``[32460, C, S, S]`` (global row major)."""
    chunks = []
    for name in SETS:
        raw = load_set(name, folder).reshape(-1, SIDE, SIDE)
        for start in range(0, len(raw), 2048):
            chunks.append(preprocess.arrays(raw[start : start + 2048].astype(np.float32)))
    return torch.cat(chunks)


def omniglot(
    split: str = "vinyals",
    part: str = "train",
    data_dir: str | Path | None = None,
    preprocess: Preprocess | None = None,
) -> FewShotDataset:
    """One part of an Omniglot split (see :mod:`metalab.data.splits`), preprocessed in memory."""
    preprocess = preprocess or Preprocess()
    chosen = splits.classes(split, part)
    images = _omniglot_images(find_omniglot(data_dir).resolve(), preprocess)
    rows = torch.tensor([row for row, _ in chosen], dtype=torch.long)
    names = splits.character_names()
    return FewShotDataset(
        images=images,
        offsets=rows * DRAWERS,
        sizes=torch.full((len(chosen),), DRAWERS, dtype=torch.long),
        rotations=torch.tensor([turns for _, turns in chosen], dtype=torch.long),
        class_names=tuple(names[r] + (f"@{90 * k}" if k else "") for r, k in chosen),
        name=f"omniglot/{split}/{part}",
    )


def load_dataset(
    dataset: str,
    part: str,
    *,
    split: str = "vinyals",
    data_dir: str | Path | None = None,
    preprocess: Preprocess | None = None,
) -> FewShotDataset:
    """``dataset`` is ``omniglot`` or a folder of class sub-folders (``folder:PATH`` or a path).

    A folder may hold ``train/``, ``val/`` and ``test/`` sub-folders, each with class folders;
    otherwise the folder itself serves every part. (Task families that are not image
    classes, such as ``sinusoid``, are loaded by :func:`metalab.tasks.registry.load_tasks`.)
    """
    if dataset == "omniglot":
        return omniglot(split, part, data_dir, preprocess)
    root = Path(dataset.removeprefix("folder:"))
    if not root.exists():
        raise DataError(
            f"unknown dataset {dataset!r}: expected 'omniglot' or a folder of class sub-folders "
            f"({root} does not exist)", fields=("dataset",)
        )
    if (root / part).is_dir():
        root = root / part
    return image_folder(root, preprocess)
