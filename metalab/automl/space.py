"""The search space: scikit-learn pipelines of preprocessing and one model family.

A *configuration* is a flat dict of Optuna parameters, e.g.::

    {"classifier": "random_forest", "num_imputer": "median", "cat_encoder": "ordinal",
     "random_forest:n_estimators": 128, "random_forest:max_features": 0.5, ...}

:func:`suggest_config` samples one through an Optuna trial (define-by-run, conditional on the
family), so a configuration read back from a study (``trial.params``) can be enqueued into
another study unchanged; :func:`build_pipeline` turns one into an unfitted pipeline.

Pipeline: numeric columns are imputed (mean or median) and, for the scale-sensitive families,
scaled; categorical columns are imputed with a constant and one-hot or ordinal encoded; then
one model family. :data:`DEFAULT_FAMILIES` (logistic regression, k-nearest neighbours, random
forest, extra trees, histogram gradient boosting) are searched unless a search names its
``families``; :data:`FAMILIES` adds an RBF support vector machine and a one-hidden-layer
perceptron (auto-sklearn's ``libsvm_svc`` and ``mlp``, with their ranges). Every model runs on
one thread (``n_jobs=1``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from sklearn.svm import SVC

from metalab.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "build_pipeline",
    "config_key",
    "check_families",
    "cold_start_configs",
    "suggest_config",
    "validate_config",
]

FAMILIES: tuple[str, ...] = ("logreg", "knn", "random_forest", "extra_trees", "hist_gb", "svm", "mlp")
# What a search covers unless told otherwise (the shipped metabase was built over these).
DEFAULT_FAMILIES: tuple[str, ...] = FAMILIES[:5]
_SCALED = ("logreg", "knn", "svm", "mlp")

# The configuration tried first by a cold start: a random forest with sklearn's defaults
# (100 trees, sqrt features), the usual strong baseline.
DEFAULT_CONFIG: dict[str, Any] = {
    "classifier": "random_forest",
    "num_imputer": "median",
    "cat_encoder": "ordinal",
    "random_forest:n_estimators": 100,
    "random_forest:max_features": 0.3,
    "random_forest:min_samples_leaf": 1,
    "random_forest:class_weight": "none",
}


def check_families(families: Sequence[str] | None) -> tuple[str, ...]:
    """``families`` as a tuple in :data:`FAMILIES` order (``None``: the default ones).

    Raises:
        ConfigError: an unknown family, or none.
    """
    if families is None:
        return DEFAULT_FAMILIES
    if isinstance(families, str):
        families = [families]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown or not families:
        raise ConfigError(
            f"families must be a non-empty list of {', '.join(FAMILIES)}; got unknown "
            f"{unknown}" if unknown else "families must name at least one model family"
        )
    return tuple(f for f in FAMILIES if f in set(families))


def cold_start_configs(families: tuple[str, ...]) -> list[dict[str, Any]]:
    """What a search without a warm start evaluates first: :data:`DEFAULT_CONFIG` when its
    family is among the checked ``families``, else nothing (the sampler starts)."""
    return [dict(DEFAULT_CONFIG)] if DEFAULT_CONFIG["classifier"] in families else []


def suggest_config(trial: optuna.Trial, families: Sequence[str] = DEFAULT_FAMILIES) -> dict[str, Any]:
    """Sample a configuration of one of ``families`` with ``trial`` and return it (equal to
    ``trial.params``). One study must keep one ``families`` (Optuna fixes a parameter's
    choices at its first trial)."""
    family = trial.suggest_categorical("classifier", tuple(families))
    trial.suggest_categorical("num_imputer", ("mean", "median"))
    trial.suggest_categorical("cat_encoder", ("onehot", "ordinal"))
    if family in _SCALED:
        trial.suggest_categorical("scaler", ("standard", "robust", "minmax", "quantile"))
    if family == "logreg":
        trial.suggest_float("logreg:C", 1e-3, 1e3, log=True)
        trial.suggest_categorical("logreg:class_weight", ("none", "balanced"))
    elif family == "knn":
        trial.suggest_int("knn:n_neighbors", 1, 64, log=True)
        trial.suggest_categorical("knn:weights", ("uniform", "distance"))
        trial.suggest_categorical("knn:p", (1, 2))
    elif family == "svm":
        trial.suggest_float("svm:C", 0.03125, 32768.0, log=True)
        trial.suggest_float("svm:gamma", 3.0517578125e-05, 8.0, log=True)
        trial.suggest_categorical("svm:class_weight", ("none", "balanced"))
    elif family == "mlp":
        trial.suggest_int("mlp:hidden_units", 16, 256, log=True)
        trial.suggest_float("mlp:alpha", 1e-7, 1e-1, log=True)
        trial.suggest_float("mlp:learning_rate_init", 1e-4, 0.5, log=True)
    elif family in ("random_forest", "extra_trees"):
        trial.suggest_int(f"{family}:n_estimators", 32, 256, log=True)
        trial.suggest_float(f"{family}:max_features", 0.05, 1.0)
        trial.suggest_int(f"{family}:min_samples_leaf", 1, 16, log=True)
        trial.suggest_categorical(f"{family}:class_weight", ("none", "balanced", "balanced_subsample"))
    else:
        trial.suggest_float("hist_gb:learning_rate", 0.01, 0.5, log=True)
        trial.suggest_int("hist_gb:max_iter", 32, 512, log=True)
        trial.suggest_int("hist_gb:max_leaf_nodes", 4, 128, log=True)
        trial.suggest_int("hist_gb:min_samples_leaf", 2, 64, log=True)
        trial.suggest_float("hist_gb:l2_regularization", 1e-8, 1.0, log=True)
        trial.suggest_categorical("hist_gb:class_weight", ("none", "balanced"))
    return dict(trial.params)


def config_key(config: Mapping[str, Any]) -> str:
    """A text that two configurations share exactly when they are equal (to find repeats)."""
    return json.dumps(dict(config), sort_keys=True)


def _replay(config: Mapping[str, Any]) -> optuna.trial.FixedTrial:
    """Run the space on a FixedTrial holding ``config``; ConfigError if it does not fit."""
    recorder = optuna.trial.FixedTrial(dict(config))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            suggest_config(recorder, FAMILIES)
    except ValueError as error:
        raise ConfigError(
            f"configuration {dict(config)} is not in the search space: {error}"
        ) from error
    return recorder


def _inside(distribution: optuna.distributions.BaseDistribution, value: Any) -> bool:
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return value in distribution.choices
    if isinstance(distribution, (optuna.distributions.IntDistribution,
                                 optuna.distributions.FloatDistribution)):
        return distribution.low <= value <= distribution.high
    return True


def validate_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``config`` as a plain dict if it belongs to the space, else raise ConfigError."""
    recorder = _replay(config)
    extra = set(config) - set(recorder.params)
    if extra:
        raise ConfigError(
            f"configuration has parameters the space does not use with classifier "
            f"{config.get('classifier')!r}: {sorted(extra)}"
        )
    for name, distribution in recorder.distributions.items():
        if not _inside(distribution, config[name]):
            raise ConfigError(
                f"configuration parameter {name}={config[name]!r} is outside the space's "
                f"range {distribution}"
            )
    return dict(config)


def _class_weight(value: str) -> str | None:
    return None if value == "none" else value


def _softmax(scores: Any) -> np.ndarray:
    """Row-wise softmax of decision margins (a binary margin m gives sigmoid(m))."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:  # binary: one margin for the second class
        scores = np.column_stack([-scores, scores]) / 2
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


class _SupportVectors(SVC):
    """An RBF ``SVC`` whose ``predict_proba`` is the softmax of its decision margins.

    ``SVC(probability=True)`` would fit five more models for Platt scaling, and its calibrated
    probabilities follow the class prior, undoing ``class_weight``; the margins keep the
    argmax of ``predict`` (one-vs-rest), which is what ensemble selection scores.
    """

    def predict_proba(self, X: Any) -> Any:
        return _softmax(self.decision_function(X))


def _model(config: Mapping[str, Any], seed: int) -> Any:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    family = config["classifier"]
    if family == "logreg":
        return LogisticRegression(
            C=config["logreg:C"],
            class_weight=_class_weight(config["logreg:class_weight"]),
            max_iter=300,
            random_state=seed,
        )
    if family == "knn":
        return KNeighborsClassifier(
            n_neighbors=config["knn:n_neighbors"],
            weights=config["knn:weights"],
            p=config["knn:p"],
            n_jobs=1,
        )
    if family == "svm":
        return _SupportVectors(
            C=config["svm:C"],
            gamma=config["svm:gamma"],
            class_weight=_class_weight(config["svm:class_weight"]),
            cache_size=200,
            random_state=seed,
        )
    if family == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=(config["mlp:hidden_units"],),
            alpha=config["mlp:alpha"],
            learning_rate_init=config["mlp:learning_rate_init"],
            max_iter=200,
            early_stopping=False,
            random_state=seed,
        )
    if family in ("random_forest", "extra_trees"):
        cls = RandomForestClassifier if family == "random_forest" else ExtraTreesClassifier
        return cls(
            n_estimators=config[f"{family}:n_estimators"],
            max_features=config[f"{family}:max_features"],
            min_samples_leaf=config[f"{family}:min_samples_leaf"],
            class_weight=_class_weight(config[f"{family}:class_weight"]),
            n_jobs=1,
            random_state=seed,
        )
    return HistGradientBoostingClassifier(
        learning_rate=config["hist_gb:learning_rate"],
        max_iter=config["hist_gb:max_iter"],
        max_leaf_nodes=config["hist_gb:max_leaf_nodes"],
        min_samples_leaf=config["hist_gb:min_samples_leaf"],
        l2_regularization=config["hist_gb:l2_regularization"],
        class_weight=_class_weight(config["hist_gb:class_weight"]),
        early_stopping="auto",
        random_state=seed,
    )


def build_pipeline(
    config: Mapping[str, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    seed: int = 0,
) -> Any:
    """An unfitted pipeline for ``config`` over a frame with these column names.

    Args:
        config: a configuration of this space (see :func:`validate_config`).
        numeric: names of the float columns.
        categorical: names of the text (object) columns.
        seed: ``random_state`` of the model.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        QuantileTransformer,
        RobustScaler,
        StandardScaler,
    )

    family = config["classifier"]
    steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy=config["num_imputer"]))]
    if family in _SCALED:
        scalers = {
            "standard": StandardScaler,
            "robust": RobustScaler,
            "minmax": MinMaxScaler,
            "quantile": lambda: QuantileTransformer(n_quantiles=100, random_state=seed),
        }
        steps.append(("scale", scalers[config["scaler"]]()))
    if config["cat_encoder"] == "onehot":
        encoder: Any = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=32, sparse_output=False
        )
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    categorical_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
        ("encode", encoder),
    ]
    if family in _SCALED and config["cat_encoder"] == "ordinal":
        categorical_steps.append(("scale", StandardScaler()))
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(steps), list(numeric)))
    if categorical:
        transformers.append(("cat", Pipeline(categorical_steps), list(categorical)))
    prep = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("prep", prep), ("model", _model(config, seed))])
