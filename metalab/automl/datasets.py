"""Loaders for tabular classification data: a CSV file, the KEEL corpus, OpenML.

Every loader returns a :class:`TabularDataset`: features as a typed frame (see
:func:`metalab.automl._tabular.to_frame`), raw class labels, and the dataset's group (datasets
of one group share their origin and are held out together). Missing values and categorical
columns are left in place: the pipelines of :mod:`metalab.automl.space` handle them.

The KEEL folder is never guessed: pass it, or set the ``METALAB_KEEL`` environment variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metalab.errors import DataError

from ._tabular import to_frame

__all__ = [
    "KEEL_ENV",
    "MAX_BYTES",
    "MAX_ROWS",
    "TabularDataset",
    "keel_manifest",
    "keel_root",
    "load_csv",
    "load_features_csv",
    "load_keel",
    "load_keel_corpus",
    "load_openml",
    "load_openml_suite",
]

KEEL_ENV = "METALAB_KEEL"
# Missing-value markers: pandas' defaults plus KEEL's ``<null>`` and the common ``?``.
_NA_VALUES = ["<null>", "?"]
# The largest table a loader reads: a larger file is refused with a message, its size checked
# before it is read (bytes) or while only MAX_ROWS + 1 rows are read.
MAX_ROWS = 1_000_000
MAX_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class TabularDataset:
    """One classification dataset.

    Attributes:
        name: short name, unique within its corpus.
        X: features, shape (n_rows, n_features); float64 numeric and object (str/NaN)
            categorical columns.
        y: class labels as they appear in the source, shape (n_rows,).
        group: datasets sharing an origin share a group (the name when there is none).
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    group: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape


def _read_table(path: Path, *, header: int | None, na_values: Sequence[str],
                max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(
            f"{path} is {size / 1024**2:,.0f} MiB, more than the {max_bytes / 1024**2:,.0f} MiB "
            "metalab reads into memory; pass a sample of its rows (e.g. `shuf -n 100000`)"
        )
    try:
        table = pd.read_csv(
            path,
            header=header,
            na_values=list(_NA_VALUES) + list(na_values),
            skipinitialspace=True,
            sep=",",
            engine="c",
            nrows=max_rows + 1,
        )
        if table.shape[0] > max_rows:
            raise DataError(
                f"{path} has more than {max_rows:,} rows, the most metalab reads (max_rows, "
                "--max-rows on the command line); pass a sample of its rows (e.g. "
                "`shuf -n 100000`), or raise the limit if the memory allows: the AutoML search "
                "subsamples large tables anyway"
            )
        return table
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(
            f"cannot parse {path} as comma-separated text ({type(error).__name__}: "
            f"{str(error).strip()[:200]}); expected one row per line with the same number of "
            "comma-separated fields, UTF-8 encoded"
        ) from error
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path} is empty; expected a header row and data rows") from error


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    *,
    na_values: Sequence[str] = (),
    name: str | None = None,
    max_rows: int = MAX_ROWS,
) -> TabularDataset:
    """Load a CSV file with a header row and a named target column.

    Args:
        path: the file.
        target: the name of the column holding the class labels.
        na_values: extra tokens to read as missing (``NA``, empty, ``?`` and ``<null>``
            already are).
        name: the dataset's name (default: the file's stem).
        max_rows: refuse a file with more data rows (or more than :data:`MAX_BYTES` bytes).

    Raises:
        DataError: the file is missing, too large or unparseable, the target column does
            not exist, or a numeric column holds text that cannot be parsed as a number.
    """
    path = Path(path)
    table = _read_table(path, header=0, na_values=na_values, max_rows=max_rows)
    table.columns = [str(c) for c in table.columns]
    if target not in table.columns:
        shown = ", ".join(repr(c) for c in list(table.columns)[:10])
        more = " ..." if table.shape[1] > 10 else ""
        raise DataError(
            f"target column {target!r} is not in {path.name}; its columns are {shown}{more}"
        )
    if table.shape[1] < 2:
        raise DataError(f"{path.name} has no feature column besides the target {target!r}")
    y = table[target].to_numpy()
    X = to_frame(table.drop(columns=[target]), strict_numbers=True)
    name = name or path.stem
    return TabularDataset(name=name, X=X, y=y, group=name)


def load_features_csv(
    path: str | os.PathLike[str],
    *,
    na_values: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
) -> pd.DataFrame:
    """Load a CSV file with a header row and feature columns only (data to predict on).

    Raises:
        DataError: as :func:`load_csv`.
    """
    table = _read_table(Path(path), header=0, na_values=na_values, max_rows=max_rows)
    return to_frame(table.set_axis([str(c) for c in table.columns], axis=1), strict_numbers=True)


def keel_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The KEEL folder: ``root`` if given, else ``$METALAB_KEEL``.

    Raises:
        DataError: neither is set, or the folder has no ``manifest.json``.
    """
    if root is None:
        root = os.environ.get(KEEL_ENV)
        if not root:
            raise DataError(
                f"no KEEL folder given: pass --keel-root PATH (root=...) or set {KEEL_ENV} to "
                "the folder holding manifest.json and the .dat files"
            )
    path = Path(root).expanduser()
    if not (path / "manifest.json").is_file():
        raise DataError(
            f"{path} is not a KEEL folder: expected {path / 'manifest.json'} next to the "
            ".dat files"
        )
    return path


def keel_manifest(root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The manifest's dataset entries: name, group, kind, rows, features, classes."""
    with open(keel_root(root) / "manifest.json", encoding="utf-8") as handle:
        return list(json.load(handle)["datasets"])


def load_keel(name: str, root: str | os.PathLike[str] | None = None) -> TabularDataset:
    """Load one KEEL dataset by name (headerless comma-separated rows, label last)."""
    folder = keel_root(root)
    entries = {entry["name"]: entry for entry in keel_manifest(folder)}
    if name not in entries:
        close = [n for n in entries if n.startswith(name[:3])][:5]
        raise DataError(
            f"no KEEL dataset named {name!r} in {folder}"
            + (f"; did you mean one of {close}?" if close else "")
        )
    table = _read_table(folder / f"{name}.dat", header=None, na_values=())
    y = table.iloc[:, -1].to_numpy()
    if y.dtype == object:
        y = np.array([str(v).strip() for v in y], dtype=object)
    X = to_frame(table.iloc[:, :-1].set_axis([f"x{i}" for i in range(table.shape[1] - 1)], axis=1))
    return TabularDataset(name=name, X=X, y=y, group=str(entries[name]["group"]))


def load_keel_corpus(
    root: str | os.PathLike[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    max_rows: int | None = None,
) -> list[TabularDataset]:
    """Load several KEEL datasets (all by default, or ``names``), in manifest order.

    Args:
        max_rows: skip the datasets with more rows than this.
    """
    entries = keel_manifest(root)
    wanted = set(names) if names is not None else None
    if wanted is not None:
        unknown = wanted - {e["name"] for e in entries}
        if unknown:
            raise DataError(f"unknown KEEL dataset(s): {sorted(unknown)}")
    return [
        load_keel(e["name"], root)
        for e in entries
        if (wanted is None or e["name"] in wanted) and (max_rows is None or e["rows"] <= max_rows)
    ]


def _import_openml() -> Any:
    try:
        import openml
    except ImportError as error:
        raise DataError(
            "loading OpenML datasets needs the openml package: pip install openml"
        ) from error
    return openml


def load_openml(data_id: int, *, target: str | None = None) -> TabularDataset:
    """Load one OpenML dataset (needs ``pip install openml`` and a network, or its cache).

    Args:
        data_id: the OpenML dataset id.
        target: the target column (default: the dataset's default target attribute).
    """
    openml = _import_openml()
    dataset = openml.datasets.get_dataset(data_id)
    target = target or dataset.default_target_attribute
    if not target:
        raise DataError(f"OpenML dataset {data_id} has no default target; pass target=...")
    X, y, _, _ = dataset.get_data(target=target, dataset_format="dataframe")
    return TabularDataset(
        name=str(dataset.name), X=to_frame(X), y=np.asarray(y, dtype=object), group=str(dataset.name)
    )


def load_openml_suite(suite: int | str) -> list[TabularDataset]:
    """Load every dataset of an OpenML benchmark suite (for example ``"OpenML-CC18"``)."""
    openml = _import_openml()
    return [load_openml(int(data_id)) for data_id in openml.study.get_suite(suite).data]
