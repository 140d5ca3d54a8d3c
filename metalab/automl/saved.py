"""Save and load a fitted :class:`AutoClassifier` without running code from the file, and match
new data to the columns it was fitted on.

The file is a skops archive (``skops.io``): a description of the objects and their arrays, not
a pickle, so loading it builds objects of the types it names and calls nothing else. Before
loading, every type the file names that skops does not trust by default is checked: only
classes of metalab, scikit-learn and numpy are accepted; any other type (a class of another
package, or any function) refuses the whole file, naming the types.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from metalab.errors import DataError, ModelFileError

__all__ = ["TRUSTED_PACKAGES", "align_columns", "load_model", "save_model", "untrusted_types"]

# Packages whose classes a model file may hold.
TRUSTED_PACKAGES = ("metalab", "sklearn", "numpy")


def _skops() -> Any:
    try:
        import skops.io
    except ImportError as error:
        raise ModelFileError(
            "saving and loading AutoML models needs skops: pip install 'metalab[automl]'"
        ) from error
    return skops.io


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write a fitted model to ``path`` (a ``.skops`` file) atomically; return the path."""
    sio = _skops()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sio.dump(model, tmp)
    os.replace(tmp, path)
    return path


def _is_trusted(name: str) -> bool:
    """A class (not a function) defined in one of :data:`TRUSTED_PACKAGES`."""
    module, _, attribute = name.rpartition(".")
    if module.split(".")[0] not in TRUSTED_PACKAGES:
        return False
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type)


def untrusted_types(path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """The types a model file names beyond skops' defaults: ``(accepted, refused)``."""
    sio = _skops()
    try:
        names = sio.get_untrusted_types(file=path)
    except Exception as error:  # a zip or JSON error: not a skops file
        raise ModelFileError(
            f"{path} is not a metalab model file ({type(error).__name__}: {error}); give the "
            "model.skops that `metalab automl fit` writes"
        ) from None
    accepted = [name for name in names if _is_trusted(name)]
    return accepted, [name for name in names if name not in accepted]


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a model written by :func:`save_model`, refusing files with foreign types.

    Raises:
        ModelFileError: the file is missing, is not a skops file, or names a type that is
            not a class of metalab, scikit-learn or numpy.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.skops"
    if not path.is_file():
        raise ModelFileError(
            f"no model file at {path}; give the model.skops (or its run folder) that "
            "`metalab automl fit` writes"
        )
    accepted, refused = untrusted_types(path)
    if refused:
        raise ModelFileError(
            f"{path} holds types that are not metalab's, scikit-learn's or numpy's: {refused}; "
            "refusing to load it, as building them could run code. Load only model files you "
            "made, or refit the model"
        )
    from metalab.automl.estimator import AutoClassifier

    model = _skops().load(path, trusted=accepted)
    if not isinstance(model, AutoClassifier):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not an AutoClassifier")
    return model


def align_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame``'s columns in the order fit saw them (``columns``).

    Raises:
        DataError: a column seen at fit is missing (named in the message).

    Columns fit did not see are dropped with a warning naming them.
    """
    names = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(
            f"the data lacks {len(missing)} column(s) the model was fitted on: {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}; add them (empty values count as missing)"
        )
    extra = [c for c in names if c not in set(columns)]
    if extra:
        warnings.warn(
            f"ignoring {len(extra)} column(s) the model was not fitted on: {extra[:10]}"
            f"{' ...' if len(extra) > 10 else ''}",
            UserWarning,
            stacklevel=2,
        )
    frame = frame.set_axis(names, axis=1)
    return frame[columns]
