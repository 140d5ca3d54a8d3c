"""Meta-features: the auto-sklearn set of numbers that describe a classification dataset.

Simple (counts, their logs and ratios, missing values, categorical share), statistical
(class probabilities, skewness and kurtosis of the numeric features, number of symbols of the
categorical ones, PCA), information-theoretic (class entropy) and landmarkers (the
cross-validated score of six very fast learners), after Feurer et al. (2015), "Efficient and
Robust Automated Machine Learning", supplement table 1.

Differences from auto-sklearn, chosen for speed and for the objective this package optimises:
landmarkers are scored by balanced accuracy in 3-fold stratified cross-validation on at most
:data:`LANDMARK_ROWS` rows (a stratified subsample), and PCA runs on the same subsample.
With those, a 20,000 x 16 dataset takes well under a second on one core.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._tabular import categorical_columns, check_target, numeric_columns, to_frame
from .evaluate import make_folds

__all__ = ["LANDMARK_ROWS", "METAFEATURE_NAMES", "compute_metafeatures"]

LANDMARK_ROWS = 2000

METAFEATURE_NAMES: tuple[str, ...] = (
    "NumberOfInstances",
    "LogNumberOfInstances",
    "NumberOfClasses",
    "NumberOfFeatures",
    "LogNumberOfFeatures",
    "NumberOfInstancesWithMissingValues",
    "PercentageOfInstancesWithMissingValues",
    "NumberOfFeaturesWithMissingValues",
    "PercentageOfFeaturesWithMissingValues",
    "NumberOfMissingValues",
    "PercentageOfMissingValues",
    "NumberOfNumericFeatures",
    "NumberOfCategoricalFeatures",
    "RatioNumericalToNominal",
    "RatioNominalToNumerical",
    "DatasetRatio",
    "LogDatasetRatio",
    "InverseDatasetRatio",
    "LogInverseDatasetRatio",
    "ClassProbabilityMin",
    "ClassProbabilityMax",
    "ClassProbabilityMean",
    "ClassProbabilitySTD",
    "SymbolsMin",
    "SymbolsMax",
    "SymbolsMean",
    "SymbolsSTD",
    "SymbolsSum",
    "KurtosisMin",
    "KurtosisMax",
    "KurtosisMean",
    "KurtosisSTD",
    "SkewnessMin",
    "SkewnessMax",
    "SkewnessMean",
    "SkewnessSTD",
    "ClassEntropy",
    "LandmarkLDA",
    "LandmarkNaiveBayes",
    "LandmarkDecisionTree",
    "LandmarkDecisionNodeLearner",
    "LandmarkRandomNodeLearner",
    "Landmark1NN",
    "PCAFractionOfComponentsFor95PercentVariance",
    "PCAKurtosisFirstPC",
    "PCASkewnessFirstPC",
)


def _summary(values: np.ndarray, prefix: str) -> dict[str, float]:
    """Min, max, mean and population std of finite values (all 0 when there is none)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {f"{prefix}{k}": 0.0 for k in ("Min", "Max", "Mean", "STD")}
    return {
        f"{prefix}Min": float(values.min()),
        f"{prefix}Max": float(values.max()),
        f"{prefix}Mean": float(values.mean()),
        f"{prefix}STD": float(values.std()),
    }


def _simple(frame: pd.DataFrame, counts: np.ndarray) -> dict[str, float]:
    n, p = frame.shape
    missing = frame.isna().to_numpy()
    n_num = len(numeric_columns(frame))
    n_cat = p - n_num
    out = {
        "NumberOfInstances": float(n),
        "LogNumberOfInstances": math.log(n),
        "NumberOfClasses": float(counts.size),
        "NumberOfFeatures": float(p),
        "LogNumberOfFeatures": math.log(p),
        "NumberOfInstancesWithMissingValues": float(missing.any(axis=1).sum()),
        "NumberOfFeaturesWithMissingValues": float(missing.any(axis=0).sum()),
        "NumberOfMissingValues": float(missing.sum()),
        "NumberOfNumericFeatures": float(n_num),
        "NumberOfCategoricalFeatures": float(n_cat),
        "RatioNumericalToNominal": n_num / n_cat if n_cat else 0.0,
        "RatioNominalToNumerical": n_cat / n_num if n_num else 0.0,
        "DatasetRatio": p / n,
        "LogDatasetRatio": math.log(p / n),
        "InverseDatasetRatio": n / p,
        "LogInverseDatasetRatio": math.log(n / p),
    }
    out["PercentageOfInstancesWithMissingValues"] = out["NumberOfInstancesWithMissingValues"] / n
    out["PercentageOfFeaturesWithMissingValues"] = out["NumberOfFeaturesWithMissingValues"] / p
    out["PercentageOfMissingValues"] = out["NumberOfMissingValues"] / (n * p)
    return out


def _statistical(frame: pd.DataFrame, counts: np.ndarray) -> dict[str, float]:
    probabilities = counts / counts.sum()
    out = _summary(probabilities, "ClassProbability")
    cat = categorical_columns(frame)
    symbols = np.array([frame[c].nunique(dropna=True) for c in cat], dtype=float)
    out.update(_summary(symbols, "Symbols"))
    out["SymbolsSum"] = float(symbols.sum())
    num = frame[numeric_columns(frame)].to_numpy(dtype=float)
    if num.shape[1]:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            kurtosis = np.asarray(stats.kurtosis(num, axis=0, nan_policy="omit"), dtype=float)
            skewness = np.asarray(stats.skew(num, axis=0, nan_policy="omit"), dtype=float)
    else:
        kurtosis = skewness = np.empty(0)
    out.update(_summary(kurtosis, "Kurtosis"))
    out.update(_summary(skewness, "Skewness"))
    out["ClassEntropy"] = float(stats.entropy(probabilities, base=2))
    return out


def _numeric_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Numeric columns median-imputed, categorical ones as integer codes (-1 if missing)."""
    parts = []
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values):
            parts.append(pd.factorize(values)[0].astype(float))
        else:
            median = values.median()
            parts.append(values.fillna(0.0 if np.isnan(median) else median).to_numpy(float))
    return np.column_stack(parts)


def _subsample(y: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of a stratified subsample of at most ``rows`` rows (every class kept)."""
    if y.shape[0] <= rows:
        return np.arange(y.shape[0])
    picked = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        take = max(2, int(round(rows * members.size / y.shape[0])))
        picked.append(rng.choice(members, size=min(take, members.size), replace=False))
    return np.sort(np.concatenate(picked))


def _landmarks_and_pca(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    std = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    learners = {
        "LandmarkLDA": lambda: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        "LandmarkNaiveBayes": GaussianNB,
        "LandmarkDecisionTree": lambda: DecisionTreeClassifier(random_state=seed),
        "LandmarkDecisionNodeLearner": lambda: DecisionTreeClassifier(
            criterion="entropy", max_depth=1, random_state=seed
        ),
        "LandmarkRandomNodeLearner": lambda: DecisionTreeClassifier(
            criterion="entropy", max_depth=1, max_features=1, random_state=seed
        ),
        "Landmark1NN": lambda: KNeighborsClassifier(n_neighbors=1),
    }
    folds = make_folds(y, 3, seed)
    out = {}
    for name, make in learners.items():
        scores = []
        for train, test in folds:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make().fit(Z[train], y[train])
                    scores.append(balanced_accuracy_score(y[test], model.predict(Z[test])))
            except (ValueError, np.linalg.LinAlgError):
                scores.append(np.nan)
        out[name] = float(np.nanmean(scores)) if np.isfinite(scores).any() else 0.0
    pca = PCA(random_state=seed).fit(Z)
    ratio = np.cumsum(pca.explained_variance_ratio_)
    n_components = int(np.searchsorted(ratio, 0.95) + 1) if np.isfinite(ratio).all() else 1
    out["PCAFractionOfComponentsFor95PercentVariance"] = n_components / Z.shape[1]
    first = Z @ pca.components_[0]
    with np.errstate(all="ignore"):
        out["PCAKurtosisFirstPC"] = float(np.nan_to_num(stats.kurtosis(first)))
        out["PCASkewnessFirstPC"] = float(np.nan_to_num(stats.skew(first)))
    return out


def compute_metafeatures(X: Any, y: Any, *, seed: int = 0) -> dict[str, float]:
    """The meta-features of one dataset, in the order of :data:`METAFEATURE_NAMES`.

    Args:
        X: features, shape (n_rows, n_features); numeric, text or categorical columns, with
            missing values.
        y: class labels, shape (n_rows,).
        seed: seeds the landmarkers' subsample, folds and trees.

    Returns:
        A dict from meta-feature name to a finite float. Summaries over an empty set (no
        categorical column, say) are 0, as in auto-sklearn.

    Raises:
        DataError: as :func:`metalab.automl._tabular.check_target` and ``to_frame``.
    """
    frame = to_frame(X)
    _, encoded = check_target(y, frame.shape[0])
    return metafeatures_of_frame(frame, encoded, seed=seed)


def metafeatures_of_frame(frame: pd.DataFrame, encoded: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """:func:`compute_metafeatures` of an already checked frame and encoded labels 0..C-1."""
    counts = np.bincount(encoded)
    out: dict[str, float] = {}
    out.update(_simple(frame, counts))
    out.update(_statistical(frame, counts))
    rows = _subsample(encoded, LANDMARK_ROWS, np.random.default_rng(seed))
    out.update(_landmarks_and_pca(_numeric_matrix(frame.iloc[rows]), encoded[rows], seed))
    return {name: float(np.nan_to_num(out[name])) for name in METAFEATURE_NAMES}
