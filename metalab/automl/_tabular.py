"""Turn user input (numpy arrays, pandas frames) into one typed table; check class labels.

Every entry point of :mod:`metalab.automl` goes through :func:`to_frame` and
:func:`check_target`, so the pipelines, the meta-features and the loaders see the same thing:
a :class:`pandas.DataFrame` with string column names whose columns are either ``float64``
(numeric) or ``object`` holding ``str`` values and ``NaN`` for missing (categorical).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from metalab.errors import DataError

# Share of a column's non-missing values that must parse as numbers before the remaining
# ones are called unparseable text rather than categories.
_NUMERIC_MAJORITY = 0.9


def _column_to_numeric(values: pd.Series) -> pd.Series | None:
    """The column as float64 if every non-missing value is a number, else None."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    converted = pd.to_numeric(values, errors="coerce")
    if converted.notna().sum() == values.notna().sum():
        return converted.astype("float64")
    return None


def _unparseable(values: pd.Series, converted: pd.Series) -> list[str]:
    """Values that are present but not numbers, in a mostly numeric column."""
    present = values.notna()
    bad = values[present & converted.isna()]
    if len(bad) == 0 or present.sum() == 0:
        return []
    if 1.0 - len(bad) / present.sum() < _NUMERIC_MAJORITY:
        return []
    return sorted({str(v) for v in bad})[:5]


def to_frame(X: Any, *, strict_numbers: bool = False) -> pd.DataFrame:
    """Return ``X`` as a typed frame: float64 numeric and str/NaN categorical columns.

    Args:
        X: array-like of shape (n_rows, n_features), a numpy array (numeric or object) or a
            pandas DataFrame with numeric, text, boolean or categorical columns.
        strict_numbers: raise :class:`DataError` for a column whose values are at least 90%
            numbers and the rest text that cannot be parsed (a typo or an unusual missing-value
            marker), instead of treating the column as categorical.

    Raises:
        DataError: ``X`` is not two-dimensional, has no rows or no columns, or (with
            ``strict_numbers``) holds text that cannot be parsed in a numeric column.
    """
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)  # rows by position; a shuffled index must not realign
    else:
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise DataError(
                "expected a dense array or a pandas DataFrame, got a sparse matrix; "
                "convert it with .toarray() first"
            )
        array = np.asarray(X)
        if array.ndim != 2:
            raise DataError(
                f"expected a 2-D array of shape (n_samples, n_features), got {array.ndim}-D "
                f"with shape {array.shape}. Reshape your data: X.reshape(-1, 1) for a single feature, "
                "X.reshape(1, -1) for a single sample"
            )
        frame = pd.DataFrame(array)
    if frame.shape[0] == 0:
        raise DataError(
            f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is "
            "required; pass a non-empty table"
        )
    if frame.shape[1] == 0:
        raise DataError(
            f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
            "required; pass at least one feature column"
        )
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != frame.shape[1]:
        raise DataError("column names must be unique; rename the duplicated columns")
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.is_complex_dtype(values):
            raise DataError(
                f"column {name!r} holds complex numbers; Complex data not supported, pass "
                "real numbers"
            )
        numeric = _column_to_numeric(values)
        if numeric is not None:
            if np.isinf(numeric.to_numpy()).any():
                raise DataError(
                    f"column {name!r} holds infinite values; replace them with NaN (missing) "
                    "or a finite number"
                )
            columns[name] = numeric
            continue
        if strict_numbers:
            bad = _unparseable(values, pd.to_numeric(values, errors="coerce"))
            if bad:
                raise DataError(
                    f"column {name!r} is numeric but holds text that cannot be parsed as a "
                    f"number: {bad}; fix the file, or declare these tokens missing "
                    "(na_values=..., --na-values on the command line)"
                )
        text = values.astype(object).where(values.notna(), np.nan)
        strings = [np.nan if _is_missing(v) else str(v) for v in text.to_numpy()]
        columns[name] = pd.Series(np.array(strings, dtype=object), dtype=object)
    return pd.DataFrame(columns, index=pd.RangeIndex(frame.shape[0]))


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the categorical (object) columns of a frame made by :func:`to_frame`."""
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the numeric columns of a frame made by :func:`to_frame`."""
    return [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]


def drop_empty_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop the columns with no value at all, with a warning; error if none is left.

    This is the documented fallback for all-missing columns: they carry no information, so they
    are ignored at fit time (and at predict time, by name).
    """
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if not empty:
        return frame, []
    if len(empty) == frame.shape[1]:
        raise DataError(
            f"every column is entirely missing ({len(empty)} columns); there is nothing to "
            "learn from: check the file's missing-value markers"
        )
    warnings.warn(
        f"ignoring {len(empty)} column(s) with no value at all: {empty[:5]}",
        UserWarning,
        stacklevel=3,
    )
    return frame.drop(columns=empty), empty


def check_target(y: Any, n_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encode class labels as 0..C-1 and check there is something to learn.

    Args:
        y: array-like of shape (n_rows,), the class labels (numbers or strings).
        n_rows: the number of rows of X, to check the lengths agree.

    Returns:
        ``(classes, y_encoded)``: the sorted original labels, shape (C,), and the labels as
        int64 indices into ``classes``, shape (n_rows,).

    Raises:
        DataError: ``y`` is missing, not 1-D, has missing labels, a length different from X,
            continuous values, a single class, or only classes of one row.

    A class with a single row is the documented fallback case: a warning says it is used for
    training in every fold but never validated (see :func:`metalab.automl.evaluate.make_folds`).
    """
    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import type_of_target

    if y is None:
        raise DataError(
            "AutoClassifier requires y to be passed, but the target y is None; pass the class "
            "labels"
        )
    labels = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is raveled to "
            "shape (n_samples,)",
            DataConversionWarning,
            stacklevel=3,
        )
        labels = labels.ravel()
    if labels.ndim != 1:
        raise DataError(
            f"expected y of shape (n_samples,), got shape {labels.shape}; pass a single "
            "column of class labels (multi-output targets are not supported)"
        )
    if n_rows is not None and labels.shape[0] != n_rows:
        raise DataError(
            f"X has {n_rows} rows but y has {labels.shape[0]} labels; they must match"
        )
    missing = pd.isna(labels)
    if missing.any():
        raise DataError(
            f"the target has {int(missing.sum())} missing label(s); drop those rows first"
        )
    if labels.dtype.kind in "fc" and not np.all(np.isfinite(labels)):
        raise DataError("the target holds infinite values; class labels must be finite")
    if labels.dtype == object:
        labels = labels.astype(str)
    kind = type_of_target(labels)
    if kind.startswith("continuous"):
        raise DataError(
            f"Unknown label type: {kind}; the target looks continuous (a regression target), "
            "but AutoClassifier needs class labels"
        )
    classes, encoded, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if classes.shape[0] < 2:
        raise DataError(
            f"the target has only one class ({classes[0].item()!r}); classification needs at least "
            "2 classes"
        )
    if counts.max() < 2:
        raise DataError(
            "every class has a single row; at least one class needs 2 rows or more to be "
            "cross-validated"
        )
    if counts.min() < 2:
        lonely = [str(c) for c, n in zip(classes, counts, strict=True) if n < 2][:5]
        warnings.warn(
            f"class(es) {lonely} have a single row: they are used for training in every "
            "cross-validation fold but never validated; add rows for a fair estimate",
            UserWarning,
            stacklevel=3,
        )
    return classes, encoded.astype(np.int64)
