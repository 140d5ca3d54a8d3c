"""Search space and evaluation: every family runs; failures and timeouts are recorded, not raised."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from metalab.automl._tabular import check_target, to_frame
from metalab.automl.evaluate import evaluate_config, make_folds, validated_rows
from metalab.automl.search import run_search
from metalab.automl.space import DEFAULT_CONFIG, FAMILIES, suggest_config, validate_config
from metalab.errors import ConfigError

from .conftest import KNN


@pytest.fixture
def data(mixed_frame):
    X, y = mixed_frame
    classes, encoded = check_target(y)
    return to_frame(X), encoded, make_folds(encoded, 3, 0), len(classes)


def _config_of(family: str, seed: int = 0) -> dict:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.enqueue_trial({"classifier": family})
    return suggest_config(study.ask(), FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_handles_text_categories_and_missing_values(data, family):
    X, y, folds, n_classes = data
    config = _config_of(family)
    result = evaluate_config(config, X, y, folds, n_classes=n_classes, time_limit=30,
                             keep_models=True)
    assert result.status == "ok", result.message
    assert 0.0 <= result.score <= 1.0
    assert result.oof_proba.shape == (len(y), 2)
    assert len(result.fold_models) == 3


def test_support_vector_probabilities_keep_the_argmax_of_predict():
    from sklearn.datasets import load_iris

    from metalab.automl.space import _SupportVectors

    X, y = load_iris(return_X_y=True)
    for labels in (y, (y == 2).astype(int)):  # three classes, then two
        model = _SupportVectors(C=1.0, gamma=0.1, class_weight="balanced").fit(X, labels)
        proba = model.predict_proba(X)
        assert proba.shape == (len(X), len(np.unique(labels)))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (model.classes_[proba.argmax(axis=1)] == model.predict(X)).mean() > 0.98


def test_a_config_of_a_family_outside_the_search_is_skipped_with_a_warning(data):
    X, y, folds, n_classes = data
    with pytest.warns(UserWarning, match="not among the searched families"):
        result = run_search(X, y, folds, n_classes=n_classes, time_budget=30, n_trials=1,
                            enqueue=[DEFAULT_CONFIG], families=("logreg",))
    assert result.study.trials[0].params["classifier"] == "logreg"


def test_a_failing_config_is_recorded_as_error(data):
    X, y, folds, n_classes = data
    too_many = dict(KNN, **{"knn:n_neighbors": 64})  # more neighbours than rows in a 1/3 fold
    result = evaluate_config(too_many, X.iloc[:60], y[:60], make_folds(y[:60], 3, 0),
                             n_classes=n_classes, time_limit=30)
    assert result.status == "error"
    assert "n_neighbors" in result.message or "n_samples" in result.message
    assert np.isnan(result.score)


def test_a_slow_config_is_recorded_as_timeout(data):
    X, y, folds, n_classes = data
    slow = dict(DEFAULT_CONFIG, **{"random_forest:n_estimators": 256})
    result = evaluate_config(slow, X, y, folds, n_classes=n_classes, time_limit=0.01)
    assert result.status == "timeout"
    assert "longer than 0.01 s" in result.message


def test_failures_do_not_stop_the_search(data):
    X, y, folds, n_classes = data
    bad = dict(KNN, **{"knn:n_neighbors": 64})
    result = run_search(X.iloc[:60], y[:60], make_folds(y[:60], 3, 0), n_classes=n_classes,
                        time_budget=60, enqueue=[bad, DEFAULT_CONFIG], n_trials=3)
    states = [t.state for t in result.study.trials]
    assert states[0] == optuna.trial.TrialState.FAIL
    assert result.study.trials[0].user_attrs["status"] == "error"
    assert states[1:].count(optuna.trial.TrialState.COMPLETE) >= 1
    assert len(result.study.trials) == 3


def test_singleton_class_rows_train_in_every_fold_and_are_never_validated():
    y = np.array([0, 1] * 10 + [2])
    folds = make_folds(y, 5, 0)
    assert all(20 in train and 20 not in test for train, test in folds)
    assert validated_rows(folds, len(y)).sum() == 20


def test_folds_shrink_to_the_rarest_class():
    y = np.array([0] * 10 + [1] * 2)
    assert len(make_folds(y, 5, 0)) == 2


def test_configs_outside_the_space_are_refused():
    with pytest.raises(ConfigError, match="not in the search space"):
        validate_config({"classifier": "svm"})
    with pytest.raises(ConfigError, match="outside the space's range"):
        validate_config(dict(DEFAULT_CONFIG, **{"random_forest:n_estimators": 5000}))
    with pytest.raises(ConfigError, match="does not use"):
        validate_config(dict(DEFAULT_CONFIG, **{"knn:p": 2}))
    assert validate_config(DEFAULT_CONFIG) == DEFAULT_CONFIG


def test_without_a_fork_server_the_folds_run_in_process_with_the_same_result(data, monkeypatch):
    import metalab.automl.evaluate as evaluate

    X, y, folds, n_classes = data
    forked = evaluate_config(DEFAULT_CONFIG, X, y, folds, n_classes=n_classes, time_limit=60)
    monkeypatch.setattr(evaluate, "fit_context", lambda: None)
    local = evaluate_config(DEFAULT_CONFIG, X, y, folds, n_classes=n_classes, time_limit=60)
    assert local.status == "ok" and local.score == forked.score
    bad = evaluate_config(dict(KNN, **{"knn:n_neighbors": 64}), X.iloc[:60], y[:60],
                          make_folds(y[:60], 3, 0), n_classes=n_classes, time_limit=60)
    assert bad.status == "error"
