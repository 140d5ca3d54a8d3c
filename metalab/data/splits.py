"""Omniglot's standard class splits, each with train / validation / test parts.

- ``vinyals`` (Vinyals et al. 2016; Finn et al. 2017; Snell et al. 2017): the 1623 characters
  of both sets are shuffled with a fixed seed; 1200 go to meta-training (1100 train, 100
  validation) and 423 to test. Every character at 0, 90, 180 and 270 degrees is a class of
  its own, in every part: 4400 / 400 / 1692 classes.
- ``lake`` (Lake et al. 2015): the 30 background alphabets for training, 5 of them (fixed
  seed) held out for validation, and the 20 evaluation alphabets for testing; no rotations:
  778-ish / 186-ish / 659 classes (the counts depend on the alphabets drawn, see ``classes``).

The part ``train+val`` is the training and validation parts together: all 1200 meta-training
characters of ``vinyals`` (what Munkhdalai & Yu 2017 and Santoro et al. 2016 train on), all 30
background alphabets of ``lake``; a final fit once the settings are chosen on validation.

A character never appears in two parts of a split (``tests/data/test_splits.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from metalab.data.omniglot import metadata
from metalab.errors import DataError

SPLITS = ("vinyals", "lake")
PARTS = ("train", "val", "test")
TRAIN_PARTS = ("train", "train+val")
"""The parts a model may train on."""
_SPLIT_SEED = 2016  # part of the split's definition: changing it changes the benchmark


def _alphabet_rows() -> list[tuple[str, str, range]]:
    """``(set, alphabet, global character rows)``; background rows come first (0..963)."""
    out, base = [], 0
    for set_name in ("background", "evaluation"):
        info = metadata()["sets"][set_name]
        for alphabet, first_row, count in info["alphabets"]:
            out.append((set_name, alphabet, range(base + first_row, base + first_row + count)))
        base += info["characters"]
    return out


@lru_cache(maxsize=None)
def character_names() -> tuple[str, ...]:
    """``alphabet/characterNN`` for each of the 1623 global character rows."""
    names = [""] * sum(len(rows) for _, _, rows in _alphabet_rows())
    for _, alphabet, rows in _alphabet_rows():
        for i, row in enumerate(rows):
            names[row] = f"{alphabet}/character{i + 1:02d}"
    return tuple(names)


@lru_cache(maxsize=None)
def classes(split: str, part: str) -> tuple[tuple[int, int], ...]:
    """The classes of one part of a split, as ``(global character row, quarter turns)``."""
    if split not in SPLITS:
        raise DataError(f"unknown Omniglot split {split!r}; expected one of {SPLITS}")
    if part == "train+val":
        return tuple(sorted(classes(split, "train") + classes(split, "val")))
    if part not in PARTS:
        raise DataError(f"unknown split part {part!r}; expected one of {PARTS + TRAIN_PARTS[1:]}")
    rng = np.random.default_rng(_SPLIT_SEED)
    if split == "vinyals":
        order = rng.permutation(len(character_names()))
        chars = {"train": order[:1100], "val": order[1100:1200], "test": order[1200:]}[part]
        return tuple((int(c), k) for c in sorted(chars) for k in range(4))
    alphabets = _alphabet_rows()
    background = [rows for set_name, _, rows in alphabets if set_name == "background"]
    held_out = set(rng.permutation(len(background))[:5].tolist())
    groups = {
        "train": [rows for i, rows in enumerate(background) if i not in held_out],
        "val": [rows for i, rows in enumerate(background) if i in held_out],
        "test": [rows for set_name, _, rows in alphabets if set_name == "evaluation"],
    }[part]
    return tuple((row, 0) for rows in groups for row in rows)
