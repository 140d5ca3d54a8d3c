"""Ensemble selection (Caruana et al. 2004, "Ensemble Selection from Libraries of Models").

Greedy forward selection with replacement: start from the empty ensemble; at each of
``size`` steps add the model (possibly one already in) whose addition maximises the score of
the averaged probabilities,

    P_t = (1 / t) * sum_{s=1..t} p_{m_s},    m_t = argmax_m score(y, P_{t-1} * (t-1)/t + p_m / t),

and return each model's weight (its count / t). The returned ensemble is the best prefix of the
trajectory, so its validation score is never below that of the best single model (which is
what step 1 picks). Ties go to the lower index, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from metalab.errors import ConfigError

__all__ = ["EnsembleSelection", "balanced_accuracy", "ensemble_selection"]


def balanced_accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    """Balanced accuracy of the argmax of ``proba`` (n_rows, n_classes) against ``y`` (n_rows,).

    The mean over classes present in ``y`` of the recall, computed with numpy only (this runs
    ``size * n_models`` times per selection).
    """
    predicted = proba.argmax(axis=1)
    classes = np.unique(y)
    recalls = [np.mean(predicted[y == c] == c) for c in classes]
    return float(np.mean(recalls))


@dataclass(frozen=True)
class EnsembleSelection:
    """Result of ensemble selection.

    Attributes:
        weights: weight of each candidate, shape (n_models,), summing to 1.
        score: validation score of the returned ensemble.
        trajectory: validation score after each greedy step.
    """

    weights: np.ndarray
    score: float
    trajectory: tuple[float, ...]

    def predict_proba(self, probas: Sequence[np.ndarray]) -> np.ndarray:
        """Weighted average of the candidates' probabilities, shape (n_rows, n_classes)."""
        return sum(w * p for w, p in zip(self.weights, probas, strict=True) if w > 0)


def ensemble_selection(
    probas: Sequence[np.ndarray],
    y: np.ndarray,
    *,
    size: int = 50,
    metric: Callable[[np.ndarray, np.ndarray], float] = balanced_accuracy,
) -> EnsembleSelection:
    """Select a weighted ensemble of candidates on validation predictions.

    Args:
        probas: each candidate's validation (e.g. out-of-fold) class probabilities, all of
            shape (n_rows, n_classes).
        y: true labels 0..n_classes-1, shape (n_rows,).
        size: number of greedy steps (the ensemble has at most this many distinct members).
        metric: higher-is-better score of (y, probabilities).

    Raises:
        ConfigError: no candidate, mismatched shapes, or ``size < 1``.
    """
    if len(probas) == 0:
        raise ConfigError("ensemble selection needs at least one candidate model")
    if size < 1:
        raise ConfigError(f"ensemble size must be >= 1, got {size}")
    stacked = np.stack([np.asarray(p, dtype=float) for p in probas])
    if stacked.ndim != 3 or stacked.shape[1] != len(y):
        raise ConfigError(
            f"each candidate's probabilities must have shape (n_rows={len(y)}, n_classes), "
            f"got {stacked.shape[1:]}"
        )
    counts = np.zeros(len(probas), dtype=np.int64)
    running = np.zeros(stacked.shape[1:])
    trajectory: list[float] = []
    best_counts, best_score = counts.copy(), -np.inf
    for step in range(1, size + 1):
        scores = [metric(y, (running + candidate) / step) for candidate in stacked]
        chosen = int(np.argmax(scores))
        counts[chosen] += 1
        running += stacked[chosen]
        trajectory.append(float(scores[chosen]))
        if scores[chosen] > best_score:
            best_score, best_counts = float(scores[chosen]), counts.copy()
    return EnsembleSelection(
        weights=best_counts / best_counts.sum(), score=best_score, trajectory=tuple(trajectory)
    )
