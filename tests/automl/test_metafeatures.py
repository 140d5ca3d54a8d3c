"""Meta-features: hand-computed values on a small table, and speed on 20,000 x 16."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metalab.automl.metafeatures import METAFEATURE_NAMES, compute_metafeatures
from metalab.errors import DataError


@pytest.fixture
def table():
    rng = np.random.default_rng(1)
    n = 40
    frame = pd.DataFrame(
        {
            "u": rng.exponential(size=n),
            "v": rng.normal(size=n),
            "c": np.array(["a", "b", "c", "d"] * 10, dtype=object),
        }
    )
    frame.loc[[0, 1], "u"] = np.nan
    frame.loc[1, "c"] = None
    y = np.array([0] * 30 + [1] * 10)
    return frame, y


def test_simple_metafeatures_match_hand_counts(table):
    X, y = table
    mf = compute_metafeatures(X, y)
    assert mf["NumberOfInstances"] == 40 and mf["LogNumberOfInstances"] == pytest.approx(math.log(40))
    assert mf["NumberOfFeatures"] == 3 and mf["NumberOfClasses"] == 2
    assert mf["NumberOfMissingValues"] == 3
    assert mf["NumberOfInstancesWithMissingValues"] == 2
    assert mf["PercentageOfInstancesWithMissingValues"] == pytest.approx(2 / 40)
    assert mf["NumberOfFeaturesWithMissingValues"] == 2
    assert mf["PercentageOfMissingValues"] == pytest.approx(3 / 120)
    assert mf["NumberOfNumericFeatures"] == 2 and mf["NumberOfCategoricalFeatures"] == 1
    assert mf["RatioNumericalToNominal"] == 2 and mf["RatioNominalToNumerical"] == 0.5
    assert mf["DatasetRatio"] == pytest.approx(3 / 40)
    assert mf["LogInverseDatasetRatio"] == pytest.approx(math.log(40 / 3))


def test_statistical_metafeatures_match_scipy(table):
    X, y = table
    mf = compute_metafeatures(X, y)
    assert mf["ClassProbabilityMin"] == 0.25 and mf["ClassProbabilityMax"] == 0.75
    assert mf["ClassProbabilitySTD"] == pytest.approx(0.25)
    assert mf["ClassEntropy"] == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    assert mf["SymbolsSum"] == 4 and mf["SymbolsMean"] == 4 and mf["SymbolsSTD"] == 0
    skews = [stats.skew(X["u"].dropna()), stats.skew(X["v"])]
    kurts = [stats.kurtosis(X["u"].dropna()), stats.kurtosis(X["v"])]
    assert mf["SkewnessMax"] == pytest.approx(max(skews))
    assert mf["SkewnessMean"] == pytest.approx(np.mean(skews))
    assert mf["KurtosisMin"] == pytest.approx(min(kurts))
    assert mf["KurtosisSTD"] == pytest.approx(np.std(kurts))


def test_landmarkers_are_scores_and_every_name_is_present(table):
    X, y = table
    mf = compute_metafeatures(X, y)
    assert list(mf) == list(METAFEATURE_NAMES)
    assert all(np.isfinite(v) for v in mf.values())
    for name in METAFEATURE_NAMES:
        if name.startswith("Landmark"):
            assert 0.0 <= mf[name] <= 1.0


def test_separable_data_gives_perfect_landmarkers():
    X = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + np.linspace(0, 0.1, 40)[:, None]
    y = np.r_[np.zeros(20), np.ones(20)]
    mf = compute_metafeatures(X, y)
    assert mf["LandmarkLDA"] == 1.0 and mf["Landmark1NN"] == 1.0
    assert mf["LandmarkDecisionNodeLearner"] == 1.0


def test_twenty_thousand_by_sixteen_takes_under_a_second():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 16))
    y = rng.integers(0, 26, size=20_000)
    compute_metafeatures(X[:200], y[:200])  # import and warm up sklearn once
    # CPU time of this process, so a busy machine (other jobs on the core) does not count
    start = time.process_time()
    compute_metafeatures(X, y)
    assert time.process_time() - start < 1.0


def test_no_categorical_column_gives_zero_symbol_summaries():
    mf = compute_metafeatures(np.arange(20.0).reshape(10, 2), [0, 1] * 5)
    assert mf["SymbolsMean"] == 0 and mf["NumberOfCategoricalFeatures"] == 0


def test_bad_targets_are_refused():
    X = np.zeros((4, 2))
    with pytest.raises(DataError, match="only one class"):
        compute_metafeatures(X, [1, 1, 1, 1])
    with pytest.raises(DataError, match="X has 4 rows but y has 3"):
        compute_metafeatures(X, [0, 1, 0])
