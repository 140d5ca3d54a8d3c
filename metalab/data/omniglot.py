"""Omniglot (Lake et al. 2015): finding, downloading, verifying and decoding the official data.

The two official sets (``background``: 964 characters of 30 alphabets, ``evaluation``: 659
characters of 20 alphabets, 20 drawers each, 105x105) are read as ``bool [characters, 20,
105, 105]`` arrays, True = background (white), in the layout of ``images_{set}.npz``. Those
files are looked for, in order, in ``data_dir`` (an argument or ``--data``), ``$METALAB_DATA``
and the download cache (``$METALAB_CACHE``, else ``~/.cache/metalab``); each of those may hold
them directly or in an ``omniglot/`` sub-folder. :func:`download_omniglot` fetches the
official zips into the cache, decodes the PNGs and checks the decoded pixels against the
SHA-256 digests in ``omniglot.json`` before writing the arrays.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import urllib.request
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from metalab.errors import DataError

SETS = ("background", "evaluation")
DRAWERS = 20
SIDE = 105
_PNG_NAME = re.compile(r"(\d{4})_(\d{2})\.png$")


@lru_cache(maxsize=1)
def metadata() -> dict:
    """Alphabets, character rows, digests and download addresses of the official sets."""
    return json.loads((Path(__file__).with_name("omniglot.json")).read_text())


def cache_dir() -> Path:
    """Where downloads go: ``$METALAB_CACHE``, else ``~/.cache/metalab``."""
    return Path(os.environ.get("METALAB_CACHE") or Path.home() / ".cache" / "metalab")


def search_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for the Omniglot arrays, in order."""
    roots = [Path(p) for p in (data_dir, os.environ.get("METALAB_DATA")) if p]
    roots.append(cache_dir())
    return [d for root in roots for d in (root / "omniglot", root)]


def find_omniglot(data_dir: str | Path | None = None) -> Path:
    """The folder holding both ``images_{set}.npz``, or a :class:`DataError` saying where to put them."""
    searched = search_dirs(data_dir)
    for folder in searched:
        if all((folder / f"images_{name}.npz").is_file() for name in SETS):
            return folder
    looked = "\n  ".join(str(d) for d in searched)
    raise DataError(
        "Omniglot not found. Looked for images_background.npz and images_evaluation.npz in:\n  "
        f"{looked}\nPoint data_dir or METALAB_DATA at a folder holding them (or an omniglot/ "
        "sub-folder), or fetch the official zips with `metalab data download omniglot` "
        f"(into {cache_dir() / 'omniglot'}).", fields=("data_dir",),
    )


def load_set(name: str, data_dir: str | Path | None = None) -> np.ndarray:
    """One official set as ``bool [characters, 20, 105, 105]``, True = background."""
    if name not in SETS:
        raise DataError(f"unknown Omniglot set {name!r}; expected one of {SETS}")
    path = find_omniglot(data_dir) / f"images_{name}.npz"
    expected = (metadata()["sets"][name]["characters"], DRAWERS, SIDE, SIDE)
    try:
        with np.load(path) as arrays:
            images = arrays["images"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(
            f"cannot read {path}: {error}. Delete it and run `metalab data download omniglot`, "
            "or point METALAB_DATA at an intact copy"
        ) from None
    if images.shape != expected or images.dtype != np.bool_:
        raise DataError(
            f"{path} holds images of shape {images.shape} and dtype {images.dtype}; expected "
            f"{expected} bool. Replace it with the official data (`metalab data download omniglot`)"
        )
    return images


def images_digest(images: np.ndarray) -> str:
    """SHA-256 of the decoded pixels (C order, one byte per pixel)."""
    return hashlib.sha256(np.ascontiguousarray(images, dtype=np.bool_).tobytes()).hexdigest()


def decode_zip(source: str | Path | bytes, name: str) -> np.ndarray:
    """Decode an official ``images_{name}.zip`` (``ALPHABET/characterNN/IIII_DD.png``) to arrays."""
    from PIL import Image

    info = metadata()["sets"][name]
    first_id = info["first_character_id"]
    images = np.zeros((info["characters"], DRAWERS, SIDE, SIDE), dtype=np.bool_)
    filled = np.zeros(images.shape[:2], dtype=np.bool_)
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(handle) as archive:
            for entry in archive.namelist():
                match = _PNG_NAME.search(entry)
                if not match:
                    continue
                row, column = int(match[1]) - first_id, int(match[2]) - 1
                if not (0 <= row < images.shape[0] and 0 <= column < DRAWERS):
                    raise DataError(f"{entry} in the {name} zip is outside the official layout")
                with archive.open(entry) as png, Image.open(png) as image:
                    images[row, column] = np.asarray(image.convert("1"), dtype=np.bool_)
                filled[row, column] = True
    except zipfile.BadZipFile as error:
        raise DataError(f"the {name} download is not a zip file ({error}); download it again") from None
    if not filled.all():
        missing = int((~filled).sum())
        raise DataError(f"the {name} zip lacks {missing} of {filled.size} images; download it again")
    return images


def download_omniglot(
    destination: str | Path | None = None,
    urls: dict[str, str] | None = None,
    sets: tuple[str, ...] = SETS,
) -> Path:
    """Download the official zips, verify the decoded pixels, and write ``images_{set}.npz``.

    Args:
        destination: folder for the arrays; default ``cache_dir() / "omniglot"``.
        urls: ``{set: url}`` overriding the official addresses (any scheme urllib reads,
            ``file://`` included).
        sets: which official sets to fetch (both by default).
    Returns:
        The folder now holding the sets.
    """
    folder = Path(destination) if destination else cache_dir() / "omniglot"
    folder.mkdir(parents=True, exist_ok=True)
    official = metadata()["official_download"]
    for name in sets:
        target = folder / f"images_{name}.npz"
        if target.is_file():
            continue
        info = metadata()["sets"][name]
        url = (urls or {}).get(name) or official[info["zip"]]
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                payload = response.read()
        except OSError as error:
            raise DataError(f"cannot download {url}: {error}") from None
        images = decode_zip(payload, name)
        digest = images_digest(images)
        if digest != info["images_sha256"]:
            raise DataError(
                f"the {name} set from {url} decodes to pixels with SHA-256 {digest}, not the "
                f"official {info['images_sha256']}: the download is corrupt or not Omniglot"
            )
        labels = np.repeat(np.arange(images.shape[0])[:, None], DRAWERS, axis=1)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
            np.savez_compressed(tmp, images=images, labels=labels)
        os.replace(tmp.name, target)
    return folder
