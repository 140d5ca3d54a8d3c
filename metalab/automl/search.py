"""One time-boxed Optuna search over the space, on one dataset.

Shared by the estimator (in-memory study) and by the metabase builder (a study in a
persistent storage). Enqueued configurations (a warm start, or the default configuration of a
cold start) are evaluated first, then the sampler (TPE, or random search) proposes the rest.
Each trial's ``user_attrs`` hold its ``status`` and wall ``seconds`` (and ``error`` when it
failed); failed trials are stored with state FAIL and the search goes on.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from metalab.errors import ConfigError

from .evaluate import Evaluation, evaluate_config
from .space import DEFAULT_FAMILIES, check_families, suggest_config, validate_config

__all__ = ["SearchResult", "TPE_STARTUP_TRIALS", "make_sampler", "run_search"]

# TPE samples at random until this many trials have finished (Optuna counts enqueued ones).
TPE_STARTUP_TRIALS = 10


class _EvaluationFailed(Exception):
    """Raised inside the objective so Optuna records the trial as FAIL."""


@dataclass
class SearchResult:
    """What a search leaves behind.

    Attributes:
        study: the Optuna study (all trials, failed ones included).
        kept: the best ``keep_best`` successful evaluations (with out-of-fold probabilities and,
            if asked, fold models), best first, keyed by trial number.
        history: (seconds since the start, trial number, status, score) of every trial.
    """

    study: optuna.Study
    kept: dict[int, Evaluation] = field(default_factory=dict)
    history: list[tuple[float, int, str, float]] = field(default_factory=list)


def make_sampler(name: str, seed: int, n_startup_trials: int = TPE_STARTUP_TRIALS) -> optuna.samplers.BaseSampler:
    """``"tpe"`` (Optuna's TPE: random until ``n_startup_trials`` trials have finished,
    enqueued ones included) or ``"random"``."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"search must be 'tpe' or 'random', got {name!r}")


def run_search(
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    n_classes: int,
    time_budget: float,
    seed: int = 0,
    sampler: str = "tpe",
    enqueue: Sequence[Mapping[str, Any]] = (),
    n_startup_trials: int = TPE_STARTUP_TRIALS,
    per_fit_time_limit: float | None = None,
    n_trials: int | None = None,
    keep_best: int = 20,
    keep_models: bool = False,
    study: optuna.Study | None = None,
    families: Sequence[str] = DEFAULT_FAMILIES,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
) -> SearchResult:
    """Search for ``time_budget`` seconds (or ``n_trials`` trials, whichever ends first).

    Args:
        X, y, folds, n_classes: the data as :func:`metalab.automl.evaluate.evaluate_config`
            takes it.
        time_budget: seconds of wall time for the whole search; a trial still running at the
            end is stopped and recorded as failed (``timeout``).
        seed: seeds the sampler and the models.
        sampler: ``"tpe"`` or ``"random"``.
        enqueue: configurations to evaluate first, in order (invalid ones are skipped with a
            warning).
        n_startup_trials: TPE samples at random until this many trials have finished
            (the enqueued ones count); ignored when ``study`` is given.
        per_fit_time_limit: seconds allowed for one fold's fit (default: a quarter of the
            budget).
        n_trials: stop after this many trials (for reproducible tiny runs).
        keep_best: how many of the best successful evaluations to keep in memory.
        keep_models: keep their fitted fold pipelines too.
        study: an existing study to add trials to (default: a new in-memory one).
        families: the model families to search (:data:`metalab.automl.space.FAMILIES`);
            enqueued configurations of other families are skipped with a warning.
        callbacks: Optuna callbacks called after each trial.
    """
    families = check_families(families)
    start = time.monotonic()
    deadline = start + time_budget
    limit = per_fit_time_limit if per_fit_time_limit is not None else max(time_budget / 4, 1.0)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if study is None:
        study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, seed, n_startup_trials))
    for config in enqueue:
        try:
            if config.get("classifier") not in families:
                raise ConfigError(f"its classifier {config.get('classifier')!r} is not among "
                                  f"the searched families {families}")
            study.enqueue_trial(validate_config(config), skip_if_exists=True)
        except ConfigError as error:
            warnings.warn(f"skipping a warm-start configuration: {error}", UserWarning, stacklevel=2)
    result = SearchResult(study=study)

    def objective(trial: optuna.Trial) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = suggest_config(trial, families)
        evaluation = evaluate_config(
            config, X, y, folds, n_classes=n_classes, time_limit=limit, deadline=deadline,
            seed=seed, keep_models=keep_models,
        )
        trial.set_user_attr("status", evaluation.status)
        trial.set_user_attr("seconds", round(evaluation.seconds, 4))
        result.history.append(
            (time.monotonic() - start, trial.number, evaluation.status, evaluation.score)
        )
        if not evaluation.ok:
            trial.set_user_attr("error", evaluation.message[:500])
            raise _EvaluationFailed(evaluation.message)
        result.kept[trial.number] = evaluation
        if len(result.kept) > keep_best:
            worst = min(result.kept, key=lambda n: (result.kept[n].score, -n))
            del result.kept[worst]
        return evaluation.score

    def stop_at_deadline(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        if time.monotonic() >= deadline:
            study.stop()

    try:
        study.optimize(
            objective,
            n_trials=n_trials,
            timeout=max(deadline - time.monotonic(), 0.0),
            catch=(_EvaluationFailed,),
            callbacks=[*callbacks, stop_at_deadline],
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    result.kept = dict(sorted(result.kept.items(), key=lambda kv: (-kv[1].score, kv[0])))
    return result
