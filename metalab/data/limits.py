"""How large an image, and an image folder, metalab reads into memory.

Each limit is checked before the memory is taken: a file's size from the file system, an
image's width x height from its header (PIL's ``Image.open`` reads only the header; the
pixels are decoded later, by ``convert``), and a folder's loaded size from the number of
image files it lists, before any is read (a folder is loaded whole, as one
``[images, channels, size, size]`` float32 tensor). A limit is raised through its
environment variable (``METALAB_MAX_IMAGE_PIXELS=200000000``) or, in Python, by passing
``ImageLimits(...)``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from metalab.checks import convert, option, validate
from metalab.errors import ConfigError

# limit -> the environment variable that sets it
ENV = {
    "pixels": "METALAB_MAX_IMAGE_PIXELS",
    "file_bytes": "METALAB_MAX_IMAGE_BYTES",
    "folder_bytes": "METALAB_MAX_FOLDER_BYTES",
}


@dataclasses.dataclass(frozen=True)
class ImageLimits:
    """The largest image and image folder read into memory.

    Attributes:
        pixels: width x height of one image (50 megapixels: an 8000 x 6000 photo; decoded as
            float32 RGB it takes 600 MB for a moment). PIL's own decompression-bomb limit
            (about 179 megapixels) still applies above it.
        file_bytes: size of one image file on disk (256 MiB).
        folder_bytes: memory of a loaded folder, images x channels x size x size x 4 bytes
            (4 GiB: e.g. 38,400 RGB images at 84 x 84 take 3.3 GB).
    """

    pixels: int = option(50_000_000, minimum=1)
    file_bytes: int = option(256 * 2**20, minimum=1)
    folder_bytes: int = option(4 * 2**30, minimum=1)

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImageLimits:
        """The defaults, with each limit whose environment variable (:data:`ENV`) is set read from it."""
        environ = os.environ if environ is None else environ
        values = {}
        for name, variable in ENV.items():
            if environ.get(variable, "").strip():
                try:
                    values[name] = convert(cls, name, environ[variable])
                except ConfigError as error:
                    raise ConfigError(f"environment variable {variable}: {error}", fields=(variable,)) from None
        return cls(**values)


def raise_hint(name: str, needed: int) -> str:
    """How to raise limit ``name`` to at least ``needed``."""
    return f"or raise the limit: {ENV[name]}={needed} in the environment (ImageLimits({name}=...) in Python)"


def human_bytes(count: float) -> str:
    """``3.3 GiB``, ``256 MiB``, ``12 KiB``, ``900 bytes``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:,.1f} {unit}".replace(".0 ", " ")
    return f"{int(count)} bytes"
