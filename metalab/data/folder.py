"""A user's own images: one sub-folder per class, image files inside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from metalab.data.dataset import FewShotDataset
from metalab.data.preprocess import IMAGE_SUFFIXES, Preprocess, read_image
from metalab.errors import DataError


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_images(paths: list[Path], preprocess: Preprocess) -> torch.Tensor:
    """Read and preprocess files of possibly different sizes into ``[n, C, S, S]``."""
    return torch.cat([preprocess.arrays(read_image(p, preprocess.channels)[None]) for p in paths])


def class_folders(root: str | Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"image folder {root} does not exist or is not a folder; expected one sub-folder "
            "per class holding that class's images (png, jpg, ...)"
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(f"{root} has no class sub-folders; put each class's images in a folder of its own")
    return folders


def image_folder(root: str | Path, preprocess: Preprocess | None = None) -> FewShotDataset:
    """Load ``root/CLASS/*.png|jpg|...`` into memory, one class per sub-folder (sorted by name).

    Raises:
        DataError: the folder is missing, has no class folders, a class has no images, or an
            image cannot be read (the message names the file).
    """
    preprocess = preprocess or Preprocess()
    folders = class_folders(root)
    per_class = []
    for folder in folders:
        files = image_files(folder)
        if not files:
            raise DataError(
                f"class folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "add images or remove the folder"
            )
        per_class.append(read_images(files, preprocess))
    sizes = torch.tensor([len(x) for x in per_class])
    offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(sizes.numpy())[:-1]])).long()
    return FewShotDataset(
        images=torch.cat(per_class),
        offsets=offsets,
        sizes=sizes,
        rotations=torch.zeros(len(folders), dtype=torch.long),
        class_names=tuple(f.name for f in folders),
        name=f"folder:{Path(root)}",
    )
