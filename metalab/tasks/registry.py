"""Task families by name: what ``--dataset`` means.

A dataset string is a registered family name (``omniglot``, ``sinusoid``), ``NAME:LOCATION``
for a family that reads a file or folder (``folder:PATH``, ``functions:FILE.csv``), or the
path of a folder of class sub-folders. :func:`register_family` adds a family: its factory
receives the part (``train``, ``val`` or ``test``) and the :class:`FamilyOptions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from metalab.data.load import load_dataset
from metalab.data.preprocess import Preprocess
from metalab.errors import DataError
from metalab.tasks.bandit import Bandit
from metalab.tasks.family import TaskFamily
from metalab.tasks.functions import FunctionTasks
from metalab.tasks.image import ImageClassification
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.optimizees import DigitsMLP, OmniglotMLP, Quadratics
from metalab.tasks.regression import Sinusoid
from metalab.tasks.sequences import OmniglotSequences


@dataclasses.dataclass(frozen=True)
class FamilyOptions:
    """What a family factory may use: the text after ``NAME:`` (``location``), the Omniglot
    ``split``, the data folder, and image preprocessing."""

    location: str | None = None
    split: str = "vinyals"
    data_dir: str | Path | None = None
    preprocess: Preprocess | None = None


FamilyFactory = Callable[[str, FamilyOptions], TaskFamily]


def _omniglot(part: str, options: FamilyOptions) -> TaskFamily:
    dataset = load_dataset("omniglot", part, split=options.split, data_dir=options.data_dir,
                           preprocess=options.preprocess)
    return ImageClassification(dataset, source="omniglot", details={"omniglot_split": options.split})


def _omniglot_sequences(part: str, options: FamilyOptions) -> TaskFamily:
    family = _omniglot(part, options)
    return OmniglotSequences(family.dataset, source="omniglot-sequences", details=family.details)


def _folder(part: str, options: FamilyOptions) -> TaskFamily:
    location = options.location or ""
    dataset = load_dataset(f"folder:{location}", part, preprocess=options.preprocess)
    return ImageClassification(dataset, source=location, details={"omniglot_split": None})


def _needs_location(name: str, factory: Callable[[str, str], TaskFamily]) -> FamilyFactory:
    def build(part: str, options: FamilyOptions) -> TaskFamily:
        if not options.location:
            raise DataError(f"dataset {name} reads a file: write it as {name}:PATH", fields=("dataset",))
        return factory(options.location, part)

    return build


FAMILIES: dict[str, FamilyFactory] = {
    "omniglot": _omniglot,
    "folder": _folder,
    "sinusoid": lambda part, options: Sinusoid(part),
    "quadratic": lambda part, options: Quadratics(part),
    "digits": lambda part, options: DigitsMLP(part),
    "omniglot-sequences": _omniglot_sequences,
    "omniglot-mlp": lambda part, options: OmniglotMLP(_omniglot(part, options).dataset, part),
    "navigation2d": lambda part, options: Navigation2D(part),
    "bandit": lambda part, options: Bandit(part),
    "functions": _needs_location("functions", lambda location, part: FunctionTasks(location, part)),
}


def register_family(name: str, factory: FamilyFactory) -> None:
    """Make ``--dataset name`` (or ``name:LOCATION``) build tasks with ``factory(part, options)``."""
    FAMILIES[name] = factory


def load_tasks(
    dataset: str,
    part: str,
    *,
    split: str = "vinyals",
    data_dir: str | Path | None = None,
    preprocess: Preprocess | None = None,
) -> TaskFamily:
    """The task family ``dataset`` names, for ``part`` (``train``, ``val`` or ``test``)."""
    name, sep, location = dataset.partition(":")
    if dataset in FAMILIES:
        name, location = dataset, ""
    elif not (sep and name in FAMILIES):
        if not Path(dataset).exists():
            raise DataError(
                f"unknown dataset {dataset!r}: expected one of {sorted(FAMILIES)}, NAME:PATH for "
                "folder and functions, or a folder of class sub-folders", fields=("dataset",),
            )
        name, location = "folder", dataset
    options = FamilyOptions(location or None, split, data_dir, preprocess)
    return FAMILIES[name](part, options)
