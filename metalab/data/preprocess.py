"""Image preprocessing shared by Omniglot, image folders and ``metalab predict``.

One :class:`Preprocess` value describes how any image becomes a model input, and it is
stored in every checkpoint, so a PNG given to ``predict`` becomes exactly the input the model
was trained on. The resize is an exact area (box) average: each output pixel is the mean of
the input area it covers, fractional pixels weighted by their overlap, as PIL's ``BOX`` filter.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metalab.checks import from_mapping, option, validate
from metalab.data.limits import ImageLimits, human_bytes, raise_hint
from metalab.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """How an image becomes a tensor of shape ``[channels, size, size]`` in [0, 1].

    Attributes:
        size: side of the square output, in pixels (Omniglot papers: 28).
        channels: 1 for grey, 3 for RGB.
        invert: map dark to 1 and light to 0, so ink is 1 on a 0 background (Omniglot's
            PNGs are dark ink on white; Vinyals et al. 2016 and Finn et al. 2017 use ink = 1).
    """

    size: int = option(28, minimum=4, maximum=1024)
    channels: int = option(1, choices=(1, 3))
    invert: bool = True

    def __post_init__(self) -> None:
        validate(self, "preprocess.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Preprocess:
        return preprocess_config(values)

    def arrays(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Preprocess a stack of images already in [0, 1], *light = 1* (as read from a file).

        Args:
            images: ``[n, H, W]`` (grey) or ``[n, H, W, 3]`` (RGB) floats in [0, 1].
        Returns:
            ``[n, channels, size, size]`` float32.
        """
        x = torch.as_tensor(images, dtype=torch.float32)
        if x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim == 3:
            x = x.unsqueeze(1)  # [n, 1, H, W]
        elif x.ndim == 4 and x.shape[-1] == 3:
            x = x.permute(0, 3, 1, 2)
        else:
            raise DataError(f"expected images of shape [n, H, W] or [n, H, W, 3], got {tuple(x.shape)}")
        if self.channels == 1 and x.shape[1] == 3:
            # ITU-R 601-2 luma, as PIL's convert("L").
            x = torch.einsum("nchw,c->nhw", x, torch.tensor([0.299, 0.587, 0.114])).unsqueeze(1)
        if self.invert:
            x = 1.0 - x  # before the resize, so that blank background stays exactly 0
        x = area_resize(x, self.size).clamp_(0.0, 1.0)
        if self.channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return x.contiguous()

    def image_file(self, path: str | Path) -> torch.Tensor:
        """Read one image file into ``[channels, size, size]``."""
        return self.arrays(read_image(path, self.channels)[None])[0]


def preprocess_config(values: Any) -> Preprocess:
    """A :class:`Preprocess` from a mapping (the ``preprocess:`` training option), naming unknown keys."""
    return from_mapping(Preprocess, values, "preprocess")


def read_image(path: str | Path, channels: int = 1, limits: ImageLimits | None = None) -> np.ndarray:
    """Read an image file as floats in [0, 1]: ``[H, W]`` for grey, ``[H, W, 3]`` for RGB.

    The file's size and the image's width x height (from its header) are checked against
    ``limits`` (default: :meth:`ImageLimits.from_env`) before its pixels are decoded.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    limits = limits or ImageLimits.from_env()
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            raise DataError(
                f"image {path} is {human_bytes(size)} ({size:,} bytes), more than the "
                f"{human_bytes(limits.file_bytes)} metalab reads per image; shrink or remove the file, "
                + raise_hint("file_bytes", size)
            )
        with warnings.catch_warnings():
            # Above PIL's own limit it warns (our pixel limit decides) and above twice that it
            # raises DecompressionBombError, reported below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                if width * height > limits.pixels:
                    raise DataError(
                        f"image {path} is {width} x {height} = {width * height:,} pixels, more than the "
                        f"{limits.pixels:,} metalab decodes per image; shrink or remove the file, "
                        + raise_hint("pixels", width * height)
                    )
                image = image.convert("L" if channels == 1 else "RGB")
                return np.asarray(image, dtype=np.float32) / 255.0
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"image file {str(path)!r} does not exist") from None
    except Image.DecompressionBombError as error:
        raise DataError(
            f"image {path} is too large for PIL to decode safely ({error}); shrink it or remove it"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(
            f"cannot read image {path}: {error}. Replace or remove the file "
            f"(readable formats: {', '.join(IMAGE_SUFFIXES)})"
        ) from None


@lru_cache(maxsize=32)
def _area_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """``[n_out, n_in]`` weights: row j averages the input interval [j, j+1) * n_in / n_out."""
    scale = n_in / n_out
    edges = torch.arange(n_out + 1, dtype=torch.float64) * scale
    left, right = edges[:-1, None], edges[1:, None]
    pixel = torch.arange(n_in, dtype=torch.float64)[None, :]
    overlap = (torch.minimum(right, pixel + 1) - torch.maximum(left, pixel)).clamp(min=0)
    return (overlap / scale).to(torch.float32)


def area_resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Exact area resize of ``[..., H, W]`` to ``[..., size, size]`` (separable box filter)."""
    height, width = images.shape[-2:]
    rows = _area_matrix(height, size)
    cols = _area_matrix(width, size)
    narrow = (images.reshape(-1, width) @ cols.T).reshape(-1, height, size)
    return torch.matmul(rows, narrow).reshape(*images.shape[:-2], size, size)
