"""A user's own images: one sub-folder per class, image files inside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from metalab.data.dataset import FewShotDataset
from metalab.data.limits import ImageLimits, human_bytes, raise_hint
from metalab.data.preprocess import IMAGE_SUFFIXES, Preprocess, read_image
from metalab.errors import DataError


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_images(paths: list[Path], preprocess: Preprocess, limits: ImageLimits | None = None) -> torch.Tensor:
    """Read and preprocess files of possibly different sizes into ``[n, C, S, S]``, one at a
    time (each is checked against ``limits`` before it is decoded)."""
    limits = limits or ImageLimits.from_env()
    check_loaded_size(len(paths), preprocess, limits, str(paths[0].parent) if paths else "")
    return torch.cat([preprocess.arrays(read_image(p, preprocess.channels, limits)[None]) for p in paths])


def check_loaded_size(count: int, preprocess: Preprocess, limits: ImageLimits, where: str) -> None:
    """Refuse ``count`` images whose preprocessed tensor would exceed ``limits.folder_bytes``."""
    needed = count * preprocess.channels * preprocess.size**2 * 4
    if needed > limits.folder_bytes:
        raise DataError(
            f"image folder {where} holds {count:,} images; loaded as {count:,} x {preprocess.channels} x "
            f"{preprocess.size} x {preprocess.size} float32 they take {human_bytes(needed)}, more than the "
            f"{human_bytes(limits.folder_bytes)} metalab loads into memory (a folder is loaded whole); "
            "use fewer images or a smaller preprocess size, " + raise_hint("folder_bytes", needed)
        )


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


def image_folder(
    root: str | Path, preprocess: Preprocess | None = None, limits: ImageLimits | None = None,
) -> FewShotDataset:
    """Load ``root/CLASS/*.png|jpg|...`` into memory, one class per sub-folder (sorted by name).

    Every file is listed first: the whole folder's preprocessed size is checked against
    ``limits`` (default: :meth:`ImageLimits.from_env`) before any image is read, and each
    image's file size and pixels before it is decoded.

    Raises:
        DataError: the folder is missing, has no class folders, a class has no images, an
            image cannot be read or is over a limit, or the folder is over its limit (the
            message names the file or folder, its size, the limit and how to raise it).
    """
    preprocess = preprocess or Preprocess()
    limits = limits or ImageLimits.from_env()
    folders = class_folders(root)
    listed = []
    for folder in folders:
        files = image_files(folder)
        if not files:
            raise DataError(
                f"class folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "add images or remove the folder"
            )
        listed.append(files)
    check_loaded_size(sum(map(len, listed)), preprocess, limits, str(root))
    per_class = [read_images(files, preprocess, limits) for files in listed]
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
