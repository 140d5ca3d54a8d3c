"""Meta-learning for AutoML on tabular classification.

Meta-features describe a dataset; a meta-knowledge base holds, per dataset, its meta-features
and every configuration a search evaluated on it (and, cross-evaluated, how candidate
configurations do on every dataset); a new dataset's search starts from a portfolio of
configurations chosen for its nearest datasets and ends with ensemble selection. The entry point is
:class:`AutoClassifier`, a scikit-learn estimator::

    from metalab.automl import AutoClassifier
    model = AutoClassifier(time_budget=60, metabase="default", seed=0).fit(X, y)

Needs the ``automl`` extra: ``pip install 'metalab[automl]'`` (scikit-learn, optuna, pandas,
scipy, skops).
"""

from __future__ import annotations

try:
    import optuna as _optuna  # noqa: F401
    import pandas as _pandas  # noqa: F401
    import scipy as _scipy  # noqa: F401
    import sklearn as _sklearn  # noqa: F401
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"metalab.automl needs the automl extra ({_error.name} is missing): "
        "pip install 'metalab[automl]'"
    ) from _error

from .datasets import (
    TabularDataset,
    load_csv,
    load_keel,
    load_keel_corpus,
    load_openml,
    load_openml_suite,
)
from .ensemble import EnsembleSelection, ensemble_selection
from .estimator import AutoClassifier
from .evaluate import Evaluation, evaluate_config, make_folds
from .metabase import DEFAULT_METABASE, DatasetRecord, MetaBase, load_metabase
from .metafeatures import METAFEATURE_NAMES, compute_metafeatures
from .portfolio import candidate_configs, cross_evaluate, portfolio_configs
from .saved import load_model, save_model
from .space import DEFAULT_CONFIG, DEFAULT_FAMILIES, FAMILIES, build_pipeline, suggest_config, validate_config
from .warmstart import nearest_datasets, warmstart_configs

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_METABASE",
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "METAFEATURE_NAMES",
    "AutoClassifier",
    "DatasetRecord",
    "EnsembleSelection",
    "Evaluation",
    "MetaBase",
    "TabularDataset",
    "build_pipeline",
    "candidate_configs",
    "compute_metafeatures",
    "cross_evaluate",
    "ensemble_selection",
    "evaluate_config",
    "load_csv",
    "load_keel",
    "load_keel_corpus",
    "load_metabase",
    "load_model",
    "load_openml",
    "load_openml_suite",
    "make_folds",
    "nearest_datasets",
    "portfolio_configs",
    "save_model",
    "suggest_config",
    "validate_config",
    "warmstart_configs",
]
