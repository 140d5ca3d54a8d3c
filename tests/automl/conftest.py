"""Fixtures for the AutoML tests: the KEEL corpus read in place, small synthetic tables."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metalab.automl.metabase import DatasetRecord, MetaBase

_SHARED_KEEL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "keel"


@pytest.fixture(scope="session")
def keel_root() -> Path:
    """The KEEL folder: $METALAB_KEEL, else ../shared/data/keel beside the repository."""
    root = Path(os.environ.get("METALAB_KEEL", _SHARED_KEEL)).resolve()
    if not (root / "manifest.json").is_file():
        pytest.skip(f"KEEL corpus not found at {root}; set METALAB_KEEL")
    return root


@pytest.fixture
def mixed_frame() -> tuple[pd.DataFrame, np.ndarray]:
    """120 rows: two informative numeric columns (one with NaN), a text and a categorical column."""
    rng = np.random.default_rng(0)
    n = 120
    y = np.array(["no", "yes"])[np.arange(n) % 2]
    signal = (y == "yes").astype(float)
    a = signal * 2.0 + rng.normal(size=n)
    a[::10] = np.nan
    frame = pd.DataFrame(
        {
            "a": a,
            "b": rng.normal(size=n),
            "colour": np.where(signal > 0, "red", "blue").astype(object),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], size=n)),
        }
    )
    frame.loc[3, "colour"] = None
    return frame, y


LOGREG = {
    "classifier": "logreg",
    "num_imputer": "mean",
    "cat_encoder": "onehot",
    "scaler": "standard",
    "logreg:C": 1.0,
    "logreg:class_weight": "none",
}
KNN = {
    "classifier": "knn",
    "num_imputer": "median",
    "cat_encoder": "ordinal",
    "scaler": "minmax",
    "knn:n_neighbors": 3,
    "knn:weights": "uniform",
    "knn:p": 2,
}


@pytest.fixture
def tiny_metabase() -> MetaBase:
    """A two-dataset base whose best configurations are cheap (logistic regression, 3-NN)."""
    records = (
        DatasetRecord("small", "g1", {"NumberOfInstances": 100.0, "NumberOfFeatures": 2.0},
                      ((0.9, dict(LOGREG)), (0.8, dict(KNN)))),
        DatasetRecord("large", "g2", {"NumberOfInstances": 5000.0, "NumberOfFeatures": 50.0},
                      ((0.7, dict(KNN)),)),
    )
    return MetaBase(records, "tiny")
