"""Cross-validated balanced accuracy of one configuration, each fit under a time limit.

The folds of one configuration run in a child process started by a fork server (see
:mod:`metalab.automl._processes`: never forked from a process whose OpenMP pool runs, and
killed by the kernel if its parent dies); the data goes to it through a pipe. The child sends each fold's out-of-fold class probabilities
(and, on request, its fitted pipeline) as soon as that fold is done; the parent waits at most
``time_limit`` seconds per fold and never past an absolute ``deadline``, and kills the child
when either passes. Whatever goes wrong (an exception, a timeout, a crash of the child) comes
back as an :class:`Evaluation` with a failed status, never as an exception, so a search goes on.

Where a fork server is unavailable (Windows) the folds run in this process and the time limit
is only checked between folds.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._processes import die_with_parent, fit_context
from ._tabular import categorical_columns, numeric_columns
from .space import build_pipeline

__all__ = [
    "CELLS_PER_SECOND",
    "MIN_SEARCH_ROWS",
    "Evaluation",
    "evaluate_config",
    "make_folds",
    "search_sample",
    "stratified_sample",
    "validated_rows",
]

Folds = Sequence[tuple[np.ndarray, np.ndarray]]
# A search of time_budget seconds uses at most CELLS_PER_SECOND * time_budget cells (rows x
# columns), and at least MIN_SEARCH_ROWS rows (AutoClassifier's max_search_rows="auto").
CELLS_PER_SECOND = 50_000
MIN_SEARCH_ROWS = 1000
# Seconds a fit child may take from its fork to its first message (reading its data); the
# fork server's own start, the first time, happens before and is not counted.
_STARTUP_LIMIT = 30.0


@dataclass(frozen=True)
class Evaluation:
    """The outcome of cross-validating one configuration.

    Attributes:
        config: the configuration.
        status: ``"ok"``, ``"error"`` (an exception in fit or predict), ``"timeout"`` (a fit
            passed its time limit or the search deadline) or ``"crashed"`` (the child died).
        score: balanced accuracy of the out-of-fold predictions (NaN unless ok).
        oof_proba: out-of-fold class probabilities, shape (n_rows, n_classes), or None
            (zero on the rows no fold validates, see :func:`validated_rows`).
        fold_models: the fitted pipeline of each fold (when kept), or None.
        seconds: wall time of the whole evaluation.
        message: what went wrong, empty when ok.
    """

    config: dict[str, Any]
    status: str
    score: float = float("nan")
    oof_proba: np.ndarray | None = field(default=None, repr=False)
    fold_models: tuple[Any, ...] | None = field(default=None, repr=False)
    seconds: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def make_folds(y: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, shuffled folds; fewer than ``n_splits`` if the rarest class is smaller.

    A class with a single row cannot be in both a training and a validation fold: its row
    goes into every training fold and no validation fold (see :func:`validated_rows`).

    Args:
        y: encoded labels 0..C-1, shape (n_rows,), at least one class with 2 rows or more.
    """
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(y)
    lonely = np.flatnonzero(np.isin(y, np.flatnonzero(counts == 1)))
    rest = np.setdiff1d(np.arange(len(y)), lonely)
    n_splits = int(max(2, min(n_splits, counts[counts >= 2].min())))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [
        (np.sort(np.concatenate([rest[train], lonely])), rest[test])
        for train, test in splitter.split(np.zeros(len(rest)), y[rest])
    ]


def stratified_sample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``size`` row indices, each class in proportion but keeping at least ``min(3, count)``
    rows of it (so 3-fold stratified CV still sees every class)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.maximum(np.minimum(counts, 3), np.floor(counts * size / len(y)).astype(int))
    rows = [rng.choice(np.flatnonzero(y == c), q, replace=False) for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(rows))


def search_sample(frame: pd.DataFrame, y: np.ndarray, max_rows: int | str | None,
                  time_budget: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows to search on: all, or a stratified sample of ``max_rows`` with a warning.

    ``max_rows="auto"`` allows :data:`CELLS_PER_SECOND` cells (rows x columns) per second of
    ``time_budget``, and at least :data:`MIN_SEARCH_ROWS` rows; None allows every row.
    """
    if max_rows == "auto":
        max_rows = max(MIN_SEARCH_ROWS, int(CELLS_PER_SECOND * time_budget / frame.shape[1]))
    if max_rows is None or len(y) <= int(max_rows):
        return frame, y
    rows = stratified_sample(y, int(max_rows), seed)
    warnings.warn(
        f"X has {len(y):,} rows, more than the search can use in time_budget={time_budget:g} s "
        f"(max_search_rows: {int(max_rows):,}); searching and fitting on a stratified sample of "
        f"{len(rows):,} rows. Raise time_budget or max_search_rows to use more",
        UserWarning,
        stacklevel=3,
    )
    return frame.iloc[rows].reset_index(drop=True), y[rows]


def validated_rows(folds: Folds, n_rows: int) -> np.ndarray:
    """Boolean mask, shape (n_rows,), of the rows that some fold validates on."""
    mask = np.zeros(n_rows, dtype=bool)
    for _, test in folds:
        mask[test] = True
    return mask


def _fit_fold(
    config: Mapping[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    seed: int,
) -> tuple[np.ndarray, Any]:
    pipeline = build_pipeline(config, numeric_columns(X), categorical_columns(X), seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X.iloc[train], y[train])
        proba = pipeline.predict_proba(X.iloc[test])
    full = np.zeros((len(test), n_classes))
    full[:, pipeline.classes_] = proba
    return full, pipeline


def _child(conn: Any, config: Mapping[str, Any], X: pd.DataFrame, y: np.ndarray,
           folds: Folds, n_classes: int, seed: int, keep_models: bool) -> None:
    from threadpoolctl import threadpool_limits

    from ._forkserver_init import SERVER_PID

    # SERVER_PID is this process's own pid if the server did not preload the module (a fork
    # server started elsewhere without it): then only the signal is set, without the check.
    die_with_parent(SERVER_PID if SERVER_PID != os.getpid() else None)
    try:
        conn.send(("ready", None, None, None))
        with threadpool_limits(1):
            for index, (train, test) in enumerate(folds):
                proba, model = _fit_fold(config, X, y, train, test, n_classes, seed)
                conn.send(("fold", index, proba, model if keep_models else None))
        conn.send(("done", None, None, None))
    except Exception as error:  # reported to the parent, which records a failed config
        conn.send(("error", None, f"{type(error).__name__}: {error}", None))
    finally:
        conn.close()


def _finish(config: Mapping[str, Any], y: np.ndarray, folds: Folds, probas: dict[int, np.ndarray],
            models: dict[int, Any], keep_models: bool, start: float) -> Evaluation:
    from sklearn.metrics import balanced_accuracy_score

    oof = np.zeros((len(y), probas[0].shape[1]))
    for index, (_, test) in enumerate(folds):
        oof[test] = probas[index]
    rows = validated_rows(folds, len(y))
    score = float(balanced_accuracy_score(y[rows], oof[rows].argmax(axis=1)))
    return Evaluation(
        config=dict(config),
        status="ok",
        score=score,
        oof_proba=oof,
        fold_models=tuple(models[i] for i in range(len(folds))) if keep_models else None,
        seconds=time.monotonic() - start,
    )


def _evaluate_in_process(config, X, y, folds, n_classes, time_limit, deadline, seed,
                         keep_models, start) -> Evaluation:
    probas, models = {}, {}
    for index, (train, test) in enumerate(folds):
        if time.monotonic() > deadline:
            return Evaluation(dict(config), "timeout", seconds=time.monotonic() - start,
                              message="the search deadline passed")
        fold_start = time.monotonic()
        try:
            probas[index], models[index] = _fit_fold(config, X, y, train, test, n_classes, seed)
        except Exception as error:
            return Evaluation(dict(config), "error", seconds=time.monotonic() - start,
                              message=f"{type(error).__name__}: {error}")
        if time.monotonic() - fold_start > time_limit:
            return Evaluation(dict(config), "timeout", seconds=time.monotonic() - start,
                              message=f"a fit took longer than {time_limit:.3g} s")
    return _finish(config, y, folds, probas, models, keep_models, start)


def evaluate_config(
    config: Mapping[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Folds,
    *,
    n_classes: int,
    time_limit: float = float("inf"),
    deadline: float = float("inf"),
    seed: int = 0,
    keep_models: bool = False,
) -> Evaluation:
    """Cross-validate ``config`` on ``(X, y)``; never raises for a bad configuration.

    Args:
        config: a configuration of :mod:`metalab.automl.space`.
        X: a typed frame (see ``_tabular.to_frame``), shape (n_rows, n_features).
        y: encoded labels 0..n_classes-1, shape (n_rows,).
        folds: (train indices, test indices) pairs, e.g. from :func:`make_folds`.
        n_classes: number of classes (columns of the probabilities).
        time_limit: seconds allowed for each fold's fit and predict.
        deadline: ``time.monotonic()`` value after which the evaluation is abandoned.
        seed: ``random_state`` of the models.
        keep_models: return the fitted fold pipelines (for predicting later).
    """
    start = time.monotonic()
    context = fit_context()
    if context is None:
        return _evaluate_in_process(config, X, y, folds, n_classes, time_limit, deadline, seed,
                                    keep_models, start)
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, config, X, y, folds, n_classes, seed, keep_models), daemon=True
    )
    process.start()
    sender.close()
    probas: dict[int, np.ndarray] = {}
    models: dict[int, Any] = {}
    status, message = "ok", ""
    try:
        # The child's start is not part of a fit's time.
        waits = [_STARTUP_LIMIT] + [time_limit] * (len(folds) + 1)
        for step, limit in enumerate(waits):
            wait = min(limit, deadline - time.monotonic())
            if wait <= 0 or not receiver.poll(wait):
                status = "timeout"
                message = (
                    "the search deadline passed" if time.monotonic() >= deadline
                    else f"the fit process did not start within {limit:.3g} s" if step == 0
                    else f"a fit took longer than {limit:.3g} s"
                )
                break
            try:
                kind, index, payload, model = receiver.recv()
            except EOFError:
                status, message = "crashed", f"the worker died (exit code {process.exitcode})"
                break
            if kind == "fold":
                probas[index], models[index] = payload, model
            elif kind == "error":
                status, message = "error", str(payload)
                break
            elif kind == "done":
                break
    finally:
        receiver.close()
        if status == "ok":
            process.join(timeout=5)
        if process.is_alive():
            process.kill()
        process.join()
    if status != "ok":
        return Evaluation(dict(config), status, seconds=time.monotonic() - start, message=message)
    return _finish(config, y, folds, probas, models, keep_models, start)
