"""Caruana ensemble selection: never below the best single model, weights as counts."""

from __future__ import annotations

import numpy as np
import pytest

from metalab.automl.ensemble import balanced_accuracy, ensemble_selection
from metalab.errors import ConfigError


def _onehot(labels: np.ndarray, n_classes: int = 2) -> np.ndarray:
    return np.eye(n_classes)[labels]


def test_validation_score_is_at_least_the_best_single_model():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    probas = [rng.dirichlet(np.ones(3), size=200) * 0.5 + 0.5 * _onehot(y, 3) * rng.random((200, 1))
              for _ in range(8)]
    best_single = max(balanced_accuracy(y, p) for p in probas)
    result = ensemble_selection(probas, y, size=20)
    assert result.score >= best_single
    assert result.score == pytest.approx(balanced_accuracy(y, result.predict_proba(probas)))
    assert result.weights.sum() == pytest.approx(1.0)


def test_two_complementary_models_beat_each_alone():
    # Each model is confidently right on one half of the rows and barely wrong on the other,
    # so their average is right everywhere while each alone is at chance.
    y = np.array([0, 1] * 30)
    first_half = np.arange(60) < 30
    probas = []
    for right_half in (first_half, ~first_half):
        p_true = np.where(right_half, 0.9, 0.45)
        proba = np.zeros((60, 2))
        proba[np.arange(60), y] = p_true
        proba[np.arange(60), 1 - y] = 1 - p_true
        probas.append(proba)
    result = ensemble_selection(probas, y, size=4)
    assert max(balanced_accuracy(y, p) for p in probas) == 0.5
    assert result.score == 1.0
    np.testing.assert_allclose(result.weights, [0.5, 0.5])


def test_greedy_steps_pick_with_replacement():
    y = np.array([0, 1, 0, 1])
    good = _onehot(y) * 1.0
    bad = _onehot(1 - y) * 1.0
    result = ensemble_selection([bad, good], y, size=5)
    np.testing.assert_allclose(result.weights, [0.0, 1.0])
    assert len(result.trajectory) == 5


def test_bad_inputs_are_refused():
    with pytest.raises(ConfigError, match="at least one candidate"):
        ensemble_selection([], np.array([0, 1]))
    with pytest.raises(ConfigError, match="must have shape"):
        ensemble_selection([np.zeros((3, 2))], np.array([0, 1]))
    with pytest.raises(ConfigError, match="size must be >= 1"):
        ensemble_selection([np.zeros((2, 2))], np.array([0, 1]), size=0)
