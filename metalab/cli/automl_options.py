"""The numbers and forms ``metalab automl`` takes, declared (:mod:`metalab.checks`) and checked
before any data, base or model is read.

Each action has one dataclass whose fields are named as the options' destinations
(``--per-fit-limit`` -> ``per_fit_limit``), so an error names the field and the command line
adds the flag that sets it (``metalab: on the command line, budget is --budget``).
"""

from __future__ import annotations

import argparse
import dataclasses

from typing import TypeVar

from metalab.checks import SEED32_MAX, fail, option, validate

_Options = TypeVar("_Options")

MAX_ROWS = 1_000_000  # as metalab.automl.datasets.MAX_ROWS (not imported: the extra is optional)
_SEED = dict(minimum=0, maximum=SEED32_MAX)
_LIMIT = dict(above=0, meaning=" (seconds per fold fit)")


def _check_corpus(csv: list[str] | None, target: str | None) -> None:
    if csv and target is None:
        fail("csv needs target, the name of the class column of the CSV files", "csv", "target")


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """``metalab automl build-metabase``."""

    budget: float = option(30.0, above=0, meaning=" (seconds of search per dataset)")
    cv: int = option(3, minimum=2)
    trials: int | None = option(None, minimum=1)
    per_fit_limit: float | None = option(None, **_LIMIT)
    seed: int = option(0, **_SEED)
    workers: int = option(1, minimum=1)
    csv: list[str] | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        validate(self)
        _check_corpus(self.csv, self.target)


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """``metalab automl export-metabase``."""

    top: int = option(10, minimum=1, meaning=" (configurations kept per dataset)")

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True)
class CrossOptions:
    """``metalab automl cross-evaluate``."""

    cv: int = option(3, minimum=2)
    seed: int = option(0, **_SEED)
    per_fit_limit: float = option(5.0, **_LIMIT)
    max_rows: int = option(1000, minimum=2)
    per_group: int = option(2, minimum=1, meaning=" (candidates per group)")
    add_per_group: int = option(1, minimum=1, meaning=" (candidates per group)")
    shard: str | None = option(None, pattern=r"[0-9]{1,9}/[0-9]{1,9}", meaning="K/N with 0 <= K < N")
    csv: list[str] | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        validate(self)
        _check_corpus(self.csv, self.target)
        if self.shard is not None and not int(self.shard.split("/")[0]) < int(self.shard.split("/")[1]):
            fail(f"shard must be K/N with 0 <= K < N, got {self.shard!r}", "shard")

    @property
    def shard_slice(self) -> slice:
        """The datasets of this shard: every N-th from the K-th."""
        if self.shard is None:
            return slice(None)
        k, n = (int(part) for part in self.shard.split("/"))
        return slice(k, None, n)


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """``metalab automl fit``."""

    budget: float = option(60.0, above=0, meaning=" (seconds for the whole fit)")
    seed: int = option(0, **_SEED)
    max_rows: int = option(MAX_ROWS, minimum=1)

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True)
class PredictOptions:
    """``metalab automl predict``."""

    max_rows: int = option(MAX_ROWS, minimum=1)

    def __post_init__(self) -> None:
        validate(self)


def check(cls: type[_Options], args: argparse.Namespace) -> _Options:
    """An instance of the options dataclass ``cls`` from the parsed ``args`` (a
    :class:`~metalab.errors.ConfigError` naming the first bad one)."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})
