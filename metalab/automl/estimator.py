"""``AutoClassifier``: a scikit-learn classifier that searches pipelines, warm-started from a
meta-knowledge base, and predicts with an ensemble of the models it found.

``fit`` runs, within ``time_budget`` seconds in total:

1. the meta-features of the data (:mod:`metalab.automl.metafeatures`);
2. a warm start: ``n_warmstart`` configurations chosen for the nearest datasets of the
   metabase are the first trials: a greedy portfolio of cross-evaluated candidates
   (:mod:`metalab.automl.portfolio`) when the base has them, else the best configuration of
   each neighbour (:mod:`metalab.automl.warmstart`); with ``metabase=None``, or an empty base
   (with a warning), the default configuration is the first trial instead;
3. an Optuna search (TPE, or random search) with cross-validated balanced accuracy, each fit
   time-limited and failures recorded, not raised (:mod:`metalab.automl.search`);
4. ensemble selection over the best ``ensemble_nbest`` configurations' out-of-fold
   probabilities (:mod:`metalab.automl.ensemble`). Each member predicts with the average of
   its cross-validation fold models, so nothing is refit after the budget.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from metalab.errors import MetabaseError

from ._progress import SearchProgress
from ._tabular import categorical_columns, check_target, drop_empty_columns, to_frame
from .ensemble import ensemble_selection
from .evaluate import make_folds, search_sample, validated_rows
from .metabase import MetaBase, load_metabase
from .metafeatures import metafeatures_of_frame
from .params import Params
from .portfolio import portfolio_configs
from .search import TPE_STARTUP_TRIALS, run_search
from .space import check_families, cold_start_configs
from .warmstart import nearest_datasets, warmstart_configs

__all__ = ["AutoClassifier"]



def _as_text(value: Any) -> Any:
    """A number read where text was expected, as text (``1.0`` -> ``"1"``); NaN stays NaN."""
    if pd.isna(value):
        return np.nan
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


class AutoClassifier(ClassifierMixin, BaseEstimator):
    """Meta-learned AutoML classifier over scikit-learn pipelines.

    Args:
        time_budget: seconds for the whole ``fit`` (meta-features, search, ensemble). At least
            one configuration always runs to its end or its time limit.
        metabase: ``"default"`` (the base shipped with the package, built from KEEL),
            ``None`` (cold start: the same search without meta-learning), a path to a ``.json``
            export or an SQLite file, a database URL, or a :class:`MetaBase`.
        seed: seeds the folds, the sampler and the models; ``None`` draws one at fit.
        search: ``"tpe"`` (Optuna's TPE after the enqueued trials) or ``"random"``.
        families: the model families to search, from :data:`metalab.automl.FAMILIES`
            (``"svm"`` and ``"mlp"`` beside the default five); ``None``: the default five
            (:data:`metalab.automl.DEFAULT_FAMILIES`), which the shipped base was built over.
            The warm start keeps to them; a cold start without ``"random_forest"`` starts
            from the sampler instead of the default random forest.
        cv: number of stratified cross-validation folds (fewer if the rarest class is
            smaller).
        n_warmstart: number of nearest datasets, and of configurations that start the search.
        warmstart: ``"portfolio"`` (a greedy portfolio of the base's cross-evaluated
            candidates for the nearest datasets; bases without cross-evaluation fall back to
            ``"nearest"``), ``"portfolio-cost"`` (the same, greedy by coverage per second of
            the candidates' cross-evaluation, so cheap candidates come first; an experiment,
            see ``results/automl/cost_aware_portfolio_2026-12-02``) or ``"nearest"`` (the best configuration of each nearest dataset,
            auto-sklearn 1's warm start).
        explore_after_warmstart: TPE's 10 random start-up trials follow the warm-start
            configurations instead of counting them among the 10 (more exploration before TPE
            models the space, at the cost of a later start; an experiment, see
            ``results/automl/explore_after_warmstart_2026-12-01``).
        ensemble_size: greedy steps of ensemble selection (1 = the best single model).
        ensemble_nbest: number of best configurations ensemble selection chooses from.
        per_fit_time_limit: seconds per fold fit; default ``max(time_budget / 4, 1)``.
        n_trials: also stop after this many trials (makes tiny fits reproducible).
        max_search_rows: search (and fit the ensemble's models) on a stratified sample of at
            most this many rows, with a warning; ``"auto"``: as many rows as give
            50,000 cells (rows x columns) per second of ``time_budget``, at least 1,000;
            ``None``: every row.
        progress: show a progress bar over the time budget while ``fit`` runs (on standard
            error, via tqdm), with the trial count and the best configuration so far, and a
            line for every trial that improves on the best: a live leaderboard.

    Attributes:
        classes_: the class labels, shape (n_classes,).
        n_features_in_: number of columns seen in ``fit``.
        ensemble_members_: (weight, configuration) of each ensemble member.
        ensemble_score_: out-of-fold balanced accuracy of the ensemble.
        warmstart_datasets_: names of the nearest datasets used (empty for a cold start).
        trials_: one dict per trial: number, status, score, seconds, configuration.
        history_: (seconds since the search started, trial, status, score) per finished trial,
            in order: the anytime curve of the search.
        fit_seconds_: wall time of ``fit``.
        search_rows_: number of rows the search used (fewer than given when subsampled).

    ``score`` returns the balanced accuracy (the objective of the search), not accuracy.
    """

    def __init__(
        self,
        time_budget: float = 60.0,
        metabase: str | MetaBase | None = "default",
        seed: int | None = 0,
        *,
        search: str = "tpe",
        families: Sequence[str] | None = None,
        cv: int = 3,
        n_warmstart: int = 10,
        warmstart: str = "portfolio",
        explore_after_warmstart: bool = False,
        ensemble_size: int = 25,
        ensemble_nbest: int = 20,
        per_fit_time_limit: float | None = None,
        n_trials: int | None = None,
        max_search_rows: int | str | None = "auto",
        progress: bool = False,
    ) -> None:
        self.time_budget = time_budget
        self.metabase = metabase
        self.seed = seed
        self.search = search
        self.families = families
        self.cv = cv
        self.n_warmstart = n_warmstart
        self.warmstart = warmstart
        self.explore_after_warmstart = explore_after_warmstart
        self.ensemble_size = ensemble_size
        self.ensemble_nbest = ensemble_nbest
        self.per_fit_time_limit = per_fit_time_limit
        self.n_trials = n_trials
        self.max_search_rows = max_search_rows
        self.progress = progress

    def _validate_params(self) -> None:
        """The one place hyperparameters are checked (at fit, as scikit-learn does): declared in
        :class:`metalab.automl.params.Params`, the model families by :func:`check_families`."""
        Params.of(self.get_params())
        check_families(self.families)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.n_trials is None
        return tags

    # -- fit ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> AutoClassifier:
        """Search, select an ensemble and keep its fitted fold models.

        Args:
            X: features, shape (n_samples, n_features): a numpy array or a pandas DataFrame
                with numeric, text or categorical columns and missing values.
            y: class labels, shape (n_samples,).

        Raises:
            DataError: bad data (see the "Bad input" tests).
            MetabaseError: ``metabase`` cannot be found, reached or read.

        If no configuration finishes within the budget (a tiny budget, a busy machine), the
        documented fallback is a majority-class predictor (scikit-learn's ``DummyClassifier``)
        with a warning, so ``predict`` still works; ``ensemble_members_`` is then empty.
        """
        start = time.monotonic()
        self._validate_params()
        seed = int(self.seed) if self.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=True)
        frame = to_frame(X)
        self.n_features_in_ = frame.shape[1]
        self.columns_ = list(frame.columns)
        self.categorical_ = categorical_columns(frame)
        frame, self.dropped_columns_ = drop_empty_columns(frame)
        classes, y_encoded = check_target(y, frame.shape[0])
        self.classes_ = classes

        metafeatures = metafeatures_of_frame(frame, y_encoded, seed=0)
        enqueue, self.warmstart_datasets_ = self._warm_start(metafeatures)
        frame, y_encoded = search_sample(frame, y_encoded, self.max_search_rows,
                                         float(self.time_budget), seed)
        self.search_rows_ = len(y_encoded)
        folds = make_folds(y_encoded, self.cv, seed)
        remaining = float(self.time_budget) - (time.monotonic() - start)
        with SearchProgress(float(self.time_budget), start, enabled=bool(self.progress)) as progress:
            result = self._search(frame, y_encoded, folds, len(classes), remaining, seed, enqueue,
                                  progress.callbacks)
        finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
        self.trials_ = [
            {
                "trial": t.number,
                "status": t.user_attrs.get("status", t.state.name.lower()),
                "score": float(t.value) if t.value is not None else float("nan"),
                "seconds": t.user_attrs.get("seconds", float("nan")),
                "error": t.user_attrs.get("error", ""),
                "config": dict(t.params),
            }
            for t in result.study.get_trials(deepcopy=False, states=finished)
        ]
        self.history_ = list(result.history)
        if not result.kept:
            return self._fall_back(frame, y_encoded, start)
        kept = list(result.kept.values())
        rows = validated_rows(folds, len(y_encoded))
        selection = ensemble_selection([e.oof_proba[rows] for e in kept], y_encoded[rows],
                                       size=self.ensemble_size)
        chosen = [
            (number, float(weight), evaluation)
            for (number, evaluation), weight in zip(result.kept.items(), selection.weights,
                                                    strict=True)
            if weight > 0
        ]
        self._members = [(weight, e.fold_models) for _, weight, e in chosen]
        self.ensemble_members_ = [(weight, dict(e.config)) for _, weight, e in chosen]
        self.ensemble_weights_ = {number: weight for number, weight, _ in chosen}
        self.ensemble_score_ = selection.score
        self.best_score_ = max(e.score for e in kept)
        self.fit_seconds_ = time.monotonic() - start
        return self

    def _search(self, frame: pd.DataFrame, y: np.ndarray, folds: list, n_classes: int,
                remaining: float, seed: int, enqueue: list[dict[str, Any]],
                callbacks: Sequence[Callable[..., None]]) -> Any:
        """The Optuna search of step 3 in what is left of the budget (3% kept for the ensemble)."""
        return run_search(
            frame, y, folds, n_classes=n_classes,
            time_budget=max(remaining * 0.97, 0.01), seed=seed, sampler=self.search,
            enqueue=enqueue,
            n_startup_trials=TPE_STARTUP_TRIALS
            + (len(enqueue) if self.explore_after_warmstart and self.warmstart_datasets_ else 0),
            per_fit_time_limit=self.per_fit_time_limit or max(self.time_budget / 4, 1.0),
            n_trials=self.n_trials, keep_best=self.ensemble_nbest, keep_models=True,
            families=check_families(self.families), callbacks=callbacks,
        )

    def _fall_back(self, frame: pd.DataFrame, y: np.ndarray, start: float) -> AutoClassifier:
        """No configuration finished: predict the class prior, and say so."""
        from sklearn.dummy import DummyClassifier

        statuses = pd.Series([t["status"] for t in self.trials_], dtype=object)
        warnings.warn(
            f"no configuration finished within time_budget={self.time_budget} s (trials by "
            f"status: {statuses.value_counts().to_dict()}); predicting the majority class. "
            "Raise time_budget or per_fit_time_limit",
            UserWarning,
            stacklevel=3,
        )
        self._members = [(1.0, (DummyClassifier(strategy="prior").fit(frame, y),))]
        self.ensemble_members_ = []
        self.ensemble_weights_ = {}
        self.ensemble_score_ = float("nan")
        self.best_score_ = float("nan")
        self.fit_seconds_ = time.monotonic() - start
        return self

    def _warm_start(self, metafeatures: dict[str, float]) -> tuple[list[dict[str, Any]], list[str]]:
        families = check_families(self.families)
        cold = cold_start_configs(families)
        if self.metabase is None:
            return cold, []
        try:
            base = load_metabase(self.metabase)
        except MetabaseError as error:
            raise MetabaseError(
                f"{error}; or, for a cold start without a metabase, pass metabase=None to "
                "AutoClassifier (metalab automl fit --metabase none on the command line)",
                fields=("metabase",),
            ) from error
        neighbours = nearest_datasets(metafeatures, base, k=self.n_warmstart)
        if not neighbours:
            warnings.warn(
                f"the metabase {base.source or self.metabase!r} has no usable dataset; "
                "falling back to a cold start",
                UserWarning,
                stacklevel=3,
            )
            return cold, []
        configs = []
        if self.warmstart in ("portfolio", "portfolio-cost"):
            configs = portfolio_configs(metafeatures, base, size=self.n_warmstart,
                                        k=self.n_warmstart,
                                        cost_aware=self.warmstart == "portfolio-cost",
                                        families=families)
        if not configs:
            configs = [c for c in warmstart_configs(metafeatures, base, k=self.n_warmstart)
                       if c.get("classifier") in families]
        return configs, [record.name for record, _ in neighbours]

    # -- predict --------------------------------------------------------------------------
    def _frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "_members")
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=False)
        frame = to_frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but AutoClassifier is expecting "
                f"{self.n_features_in_} features as input"
            )
        if list(frame.columns) != self.columns_:
            if set(frame.columns) == set(self.columns_):
                frame = frame[self.columns_]
            else:
                frame.columns = self.columns_
        for column in frame.columns:  # give each column the kind it had at fit
            values = frame[column]
            if column in self.categorical_ and pd.api.types.is_numeric_dtype(values):
                frame[column] = pd.Series(np.array([_as_text(v) for v in values], dtype=object),
                                          dtype=object)
            elif column not in self.categorical_ and not pd.api.types.is_numeric_dtype(values):
                frame[column] = pd.to_numeric(values, errors="coerce").astype(float)
        return frame.drop(columns=self.dropped_columns_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        from threadpoolctl import threadpool_limits

        frame = self._frame(X)
        proba = np.zeros((frame.shape[0], len(self.classes_)))
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for weight, models in self._members:
                for model in models:
                    part = model.predict_proba(frame)
                    proba[:, model.classes_] += weight * part / len(models)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, shape (n_samples,)."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Balanced accuracy of ``predict(X)`` against ``y``."""
        from sklearn.metrics import balanced_accuracy_score

        return float(balanced_accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def leaderboard(self) -> pd.DataFrame:
        """Every trial, best first: trial, classifier, status, score, seconds, ensemble weight."""
        check_is_fitted(self, "trials_")
        rows = [
            {
                "trial": t["trial"],
                "classifier": t["config"].get("classifier", ""),
                "status": t["status"],
                "cv_balanced_accuracy": t["score"],
                "seconds": t["seconds"],
                "ensemble_weight": self.ensemble_weights_.get(t["trial"], 0.0),
            }
            for t in self.trials_
        ]
        board = pd.DataFrame(rows)
        return board.sort_values(["cv_balanced_accuracy", "trial"], ascending=[False, True],
                                 na_position="last").reset_index(drop=True)
