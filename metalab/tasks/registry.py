"""Task families by name: what ``--dataset`` means.

A dataset string is a registered family name (``omniglot``, ``sinusoid``), ``NAME:LOCATION``
for a family that reads a file or folder (``folder:PATH``, ``functions:FILE.csv``), or the
path of a folder of class sub-folders. :func:`register_family` adds a family: its factory
receives the part (``train``, ``val`` or ``test``) and the :class:`FamilyOptions`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path

from metalab.data.load import load_dataset
from metalab.data.preprocess import Preprocess
from metalab.data.splits import TRAIN_PARTS
from metalab.errors import ConfigError, DataError
from metalab.tasks.alphabets import ImageTaskOptions, image_family, task_options
from metalab.tasks.bandit import Bandit
from metalab.tasks.cheetah import HalfCheetahTasks
from metalab.tasks.family import TaskFamily
from metalab.tasks.functions import FunctionTasks
from metalab.tasks.navigation import Navigation2D
from metalab.tasks.optimizees import DigitsMLP, OmniglotMLP, Quadratics
from metalab.tasks.regression import Sinusoid
from metalab.tasks.sequences import OmniglotSequences


@dataclasses.dataclass(frozen=True)
class FamilyOptions:
    """What a family factory may use: the text after ``NAME:`` (``location``), the Omniglot
    ``split``, the data folder, image preprocessing, and how image tasks are drawn (``task``,
    :class:`~metalab.tasks.alphabets.ImageTaskOptions`: within-alphabet episodes, augmentation)."""

    location: str | None = None
    split: str = "vinyals"
    data_dir: str | Path | None = None
    preprocess: Preprocess | None = None
    task: ImageTaskOptions = ImageTaskOptions()


FamilyFactory = Callable[[str, FamilyOptions], TaskFamily]


def _omniglot(part: str, options: FamilyOptions) -> TaskFamily:
    dataset = load_dataset("omniglot", part, split=options.split, data_dir=options.data_dir,
                           preprocess=options.preprocess)
    return image_family(dataset, part, options.task, source="omniglot", details={"omniglot_split": options.split})


def _omniglot_sequences(part: str, options: FamilyOptions) -> TaskFamily:
    family = _omniglot(part, options)  # quarter turns apply to its dataset
    affine = options.task.affine if part in TRAIN_PARTS else 0.0
    return OmniglotSequences(family.dataset, source="omniglot-sequences", details=family.details, affine=affine)


def _folder(part: str, options: FamilyOptions) -> TaskFamily:
    location = options.location or ""
    dataset = load_dataset(f"folder:{location}", part, preprocess=options.preprocess)
    return image_family(dataset, part, options.task, source=location, details={"omniglot_split": None})


def _needs_location(name: str, factory: Callable[[str, str], TaskFamily]) -> FamilyFactory:
    def build(part: str, options: FamilyOptions) -> TaskFamily:
        if not options.location:
            raise DataError(f"dataset {name} reads a file: write it as {name}:PATH", fields=("dataset",))
        return factory(options.location, part)

    NEEDS_LOCATION.add(name)
    return build


NEEDS_LOCATION = {"folder"}  # families that read a file or folder: NAME:LOCATION
TASK_OPTIONS = {"omniglot": tuple(ImageTaskOptions.__dataclass_fields__), "folder": ("quarter_turns", "affine"),
                "omniglot-sequences": ("quarter_turns", "affine")}
"""The families that read the ``task`` option, and which of its keys each can use."""
TRAIN_AND_VAL = ("omniglot", "omniglot-sequences")
"""The families that can train on their split's training and validation parts together."""


FAMILIES: dict[str, FamilyFactory] = {
    "omniglot": _omniglot,
    "folder": _folder,
    "sinusoid": lambda part, options: Sinusoid(part),
    "quadratic": lambda part, options: Quadratics(part),
    "digits": lambda part, options: DigitsMLP(part),
    "omniglot-sequences": _omniglot_sequences,
    "omniglot-mlp": lambda part, options: OmniglotMLP(_omniglot(part, options).dataset, part),
    "navigation2d": lambda part, options: Navigation2D(part),
    "navigation2d-oracle": lambda part, options: Navigation2D(part, env="navigation2d-oracle"),
    "cheetah-dir": lambda part, options: HalfCheetahTasks(part, env="cheetah-dir"),
    "cheetah-vel": lambda part, options: HalfCheetahTasks(part, env="cheetah-vel"),
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
    task: dict | None = None,
) -> TaskFamily:
    """The task family ``dataset`` names, for ``part`` (``train``, ``val`` or ``test``);
    ``task`` holds image task options (:func:`check_task_options`)."""
    name, location = dataset_family(dataset)
    options = FamilyOptions(location or None, split, data_dir, preprocess, check_task_options(dataset, task or {}))
    return FAMILIES[name](part, options)


def check_task_options(dataset: str, values: dict) -> ImageTaskOptions:
    """The ``task`` option of ``dataset``, checked: its keys and values, and that the family
    reads the options set (within-alphabet tasks need Omniglot's alphabets)."""
    options = task_options(values)
    name, _ = dataset_family(dataset)
    given = [f for f in ImageTaskOptions.__dataclass_fields__ if getattr(options, f) != getattr(ImageTaskOptions(), f)]
    unusable = [f for f in given if f not in TASK_OPTIONS.get(name, ())]
    if unusable:
        users = [n for n, keys in TASK_OPTIONS.items() if unusable[0] in keys]
        raise ConfigError(f"dataset {dataset!r} cannot use task option(s) {unusable}: only {users} can; "
                          "leave them out", fields=("task",))
    return options


def dataset_family(dataset: str) -> tuple[str, str]:
    """``(family name, location)`` of a ``--dataset`` string, checked without loading anything.

    Raises:
        DataError: no registered family has that name, a family that reads a file or folder
            is given none, or a folder named does not exist; the message lists the known
            families.
    """
    name, sep, location = dataset.partition(":")
    if dataset in FAMILIES:
        name, location = dataset, ""
    elif not (sep and name in FAMILIES):
        if not _exists(dataset):
            close = difflib.get_close_matches(dataset, sorted(FAMILIES), n=1)
            guess = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"unknown dataset {dataset!r}: expected one of {sorted(FAMILIES)}, NAME:PATH for "
                f"{' and '.join(sorted(NEEDS_LOCATION))}, or a folder of class sub-folders{guess}",
                fields=("dataset",),
            )
        name, location = "folder", dataset
    if name in NEEDS_LOCATION and not location:
        raise DataError(f"dataset {name} reads a file or folder: write it as {name}:PATH", fields=("dataset",))
    if name in NEEDS_LOCATION and not _exists(location):
        raise DataError(f"dataset {dataset!r}: {location} does not exist; give the path of an existing "
                        f"{'folder with one sub-folder per class' if name == 'folder' else 'file'}",
                        fields=("dataset",))
    return name, location


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False
