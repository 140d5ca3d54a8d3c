"""AutoClassifier: scikit-learn's estimator checks, mixed input, budgets, bad input."""

from __future__ import annotations

import pickle
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from metalab.automl import AutoClassifier, MetaBase
from metalab.automl.metabase import DatasetRecord, load_metabase
from metalab.errors import ConfigError, DataError, MetabaseError

from .conftest import KNN, LOGREG

# A base whose nearest configuration is a logistic regression, so each fit of the checks is
# one cheap trial (n_trials=1) that exercises the warm-start path.
_CHECK_BASE = MetaBase(
    (DatasetRecord("only", "g", {"NumberOfInstances": 50.0}, ((0.9, dict(LOGREG)),)),), "checks"
)


def _check_skips() -> dict:
    return {}


@parametrize_with_checks(
    [AutoClassifier(time_budget=30, metabase=_CHECK_BASE, seed=0, n_trials=1, cv=2,
                    ensemble_size=1)],
)
def test_passes_sklearn_estimator_checks(estimator, check):
    # No check is skipped: with n_trials set, a fit is reproducible, so even the idempotence
    # and subset-invariance checks apply. Sparse input is refused with a clear error, which
    # is what check_estimator_sparse_* expect from an estimator without the sparse tag.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def test_fits_frames_with_text_categorical_and_missing_values(mixed_frame):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=20, metabase=None, seed=0, n_trials=2, cv=3).fit(X, y)
    assert model.score(X, y) > 0.7
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"no", "yes"}
    # the same columns as a numpy object array predict the same
    np.testing.assert_allclose(model.predict_proba(X.to_numpy(dtype=object)), proba)


def test_keeps_to_the_time_budget(mixed_frame):
    X, y = mixed_frame
    start = time.monotonic()
    model = AutoClassifier(time_budget=4, metabase=None, seed=0).fit(X, y)
    elapsed = time.monotonic() - start
    assert elapsed < 4 + 1.0
    assert model.fit_seconds_ <= elapsed
    assert len(model.trials_) >= 1


def test_warm_start_uses_the_nearest_datasets_best_configs(mixed_frame, tiny_metabase):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=tiny_metabase, n_warmstart=2, n_trials=2,
                           cv=2).fit(X, y)
    assert model.warmstart_datasets_ == ["small", "large"]
    assert [t["config"] for t in model.trials_] == [LOGREG, KNN]


def test_explore_after_warmstart_puts_tpes_random_start_up_after_the_warm_configs(
    mixed_frame, tiny_metabase, monkeypatch
):
    import metalab.automl.estimator as estimator_module

    X, y = mixed_frame
    startup = []
    real_search = estimator_module.run_search

    def spy(*args, **kwargs):
        startup.append(kwargs["n_startup_trials"])
        return real_search(*args, **kwargs)

    monkeypatch.setattr(estimator_module, "run_search", spy)
    for explore in (False, True):
        AutoClassifier(time_budget=30, metabase=tiny_metabase, n_warmstart=2, n_trials=2, cv=2,
                       explore_after_warmstart=explore).fit(X, y)
    AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2,
                   explore_after_warmstart=True).fit(X, y)  # a cold start has no warm configs
    assert startup == [10, 12, 10]


def test_cold_start_begins_with_the_default_config(mixed_frame):
    from metalab.automl import DEFAULT_CONFIG

    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    assert model.warmstart_datasets_ == []
    assert model.trials_[0]["config"] == DEFAULT_CONFIG


def test_families_limit_the_search_and_the_warm_start(mixed_frame, tiny_metabase):
    X, y = mixed_frame
    cold = AutoClassifier(time_budget=30, metabase=None, n_trials=4, cv=2,
                          families=["svm", "mlp"]).fit(X, y)
    assert {t["config"]["classifier"] for t in cold.trials_} <= {"svm", "mlp"}
    assert cold.predict_proba(X).shape == (len(y), 2)
    warm = AutoClassifier(time_budget=30, metabase=tiny_metabase, n_warmstart=2, n_trials=1,
                          cv=2, families=["knn", "svm"]).fit(X, y)
    assert [t["config"] for t in warm.trials_] == [KNN]  # the logreg warm config is left out


def test_same_seed_and_trials_give_the_same_predictions(mixed_frame):
    X, y = mixed_frame
    make = lambda: AutoClassifier(time_budget=60, metabase=None, seed=3, n_trials=3, cv=2)  # noqa: E731
    a, b = make().fit(X, y), make().fit(X, y)
    assert [t["config"] for t in a.trials_] == [t["config"] for t in b.trials_]
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_pickle_round_trip_predicts_the_same(mixed_frame):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))


def test_leaderboard_lists_every_trial_best_first(mixed_frame, tiny_metabase):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=tiny_metabase, n_trials=3, cv=2).fit(X, y)
    board = model.leaderboard()
    assert len(board) == 3
    assert board["cv_balanced_accuracy"].is_monotonic_decreasing
    assert board["ensemble_weight"].sum() == pytest.approx(1.0)
    assert [trial for _, trial, _, _ in model.history_] == [0, 1, 2]
    assert all(a[0] <= b[0] for a, b in zip(model.history_, model.history_[1:]))


def test_progress_shows_a_bar_and_a_line_for_each_new_best_trial_matching_the_leaderboard(
        mixed_frame, capsys):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=None, n_trials=4, cv=2, progress=True).fit(X, y)
    shown = capsys.readouterr().err
    assert "AutoClassifier:" in shown and "4 trials" in shown
    best_lines = [line for line in shown.replace("\r", "\n").splitlines() if "(new best" in line]
    scores = [float(line.split("balanced accuracy ")[1].split()[0]) for line in best_lines]
    assert scores and scores == sorted(scores) and len(set(scores)) == len(scores)
    assert scores[-1] == pytest.approx(model.leaderboard()["cv_balanced_accuracy"].max(), abs=1e-4)


def test_no_progress_by_default_so_library_calls_stay_quiet(mixed_frame, capsys):
    X, y = mixed_frame
    AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    assert capsys.readouterr().err == ""


def test_single_class_is_refused_naming_the_class(mixed_frame):
    X, _ = mixed_frame
    with pytest.raises(DataError, match=r"only one class \(0\.0\)"):
        AutoClassifier(metabase=None).fit(X, np.zeros(len(X)))
    with pytest.raises(DataError, match=r"only one class \('x'\)"):
        AutoClassifier(metabase=None).fit(X, np.array(["x"] * len(X), dtype=object))


def test_a_class_with_one_row_warns_and_is_never_validated(mixed_frame):
    X, y = mixed_frame
    y = y.astype(object)
    y[0] = "rare"
    with pytest.warns(UserWarning, match="single row"):
        model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    assert list(model.classes_) == ["no", "rare", "yes"]


def test_all_missing_columns_are_ignored_with_a_warning(mixed_frame):
    X, y = mixed_frame
    X = X.assign(empty=np.nan)
    with pytest.warns(UserWarning, match="no value at all"):
        model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    assert model.dropped_columns_ == ["empty"]
    assert model.predict(X).shape == (len(y),)


def test_a_table_with_every_column_missing_is_refused(mixed_frame):
    _, y = mixed_frame
    X = pd.DataFrame({"a": [np.nan] * len(y), "b": [None] * len(y)})
    with pytest.raises(DataError, match="every column is entirely missing"):
        AutoClassifier(metabase=None).fit(X, y)


def test_an_unreachable_metabase_is_a_clear_error(mixed_frame, tmp_path):
    X, y = mixed_frame
    with pytest.raises(MetabaseError, match="no metabase at"):
        AutoClassifier(metabase=str(tmp_path / "missing.db")).fit(X, y)
    with pytest.raises(MetabaseError, match="cannot open the metabase"):
        AutoClassifier(metabase="postgresql+nodriver://nobody@127.0.0.1:1/none").fit(X, y)


def test_a_metabase_error_names_the_parameter_and_the_flag_that_give_a_cold_start(mixed_frame, tmp_path):
    X, y = mixed_frame
    with pytest.raises(MetabaseError) as error:
        AutoClassifier(metabase=str(tmp_path / "missing.json")).fit(X, y)
    assert "pass metabase=None to AutoClassifier (metalab automl fit --metabase none" in str(error.value)
    assert error.value.fields == ("metabase",)
    # the library's own readers serve commands with no cold start: they do not offer one
    with pytest.raises(MetabaseError) as error:
        load_metabase(tmp_path / "missing.json")
    assert "metabase=None" not in str(error.value) and "cold start" not in str(error.value)


def test_an_empty_metabase_falls_back_to_a_cold_start(mixed_frame):
    X, y = mixed_frame
    with pytest.warns(UserWarning, match="falling back to a cold start"):
        model = AutoClassifier(time_budget=30, metabase=MetaBase((), "empty"), n_trials=1,
                               cv=2).fit(X, y)
    assert model.warmstart_datasets_ == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"time_budget": 0}, r"time_budget must be a positive number \(seconds\), got 0"),
        ({"time_budget": float("inf")}, r"time_budget must be a positive number \(seconds\), got inf"),
        ({"cv": 1}, "cv must be an integer >= 2, got 1"),
        ({"search": "grid"}, r"search must be one of \['random', 'tpe'\], got 'grid'"),
        ({"n_trials": 0}, "n_trials must be an integer >= 1 or None, got 0"),
        ({"seed": 1.5}, r"seed must be an integer in \[0, 4294967295\] or None \(None: drawn at fit\), got 1.5"),
        ({"seed": 2**32}, r"seed must be an integer in \[0, 4294967295\]"),
        ({"explore_after_warmstart": "yes"}, "explore_after_warmstart must be true or false, got 'yes'"),
        ({"warmstart": "best"}, r"warmstart must be one of \['nearest', 'portfolio', 'portfolio-cost'\], got 'best'"),
        ({"max_search_rows": "all"}, "max_search_rows must be an integer >= 2, 'auto' or None, got 'all'"),
        ({"max_search_rows": 1}, "max_search_rows must be an integer >= 2, 'auto' or None, got 1"),
        ({"families": ["svm", "xgboost"]}, r"families must be .*unknown \['xgboost'\]"),
        ({"families": []}, "families must name at least one model family"),
    ],
)
def test_bad_hyperparameters_are_refused_at_fit(mixed_frame, params, message):
    X, y = mixed_frame
    with pytest.raises(ConfigError, match=message):
        AutoClassifier(metabase=None, **params).fit(X, y)


def test_hyperparameters_are_checked_by_their_declaration_and_numpy_scalars_are_numbers():
    from metalab.automl.params import Params

    params = AutoClassifier(time_budget=np.float32(2.5), cv=np.int64(4), seed=np.uint32(7),
                            explore_after_warmstart=np.bool_(True), max_search_rows=np.int64(500)).get_params()
    checked = Params.of(params)
    assert (checked.time_budget, checked.cv, checked.seed, checked.max_search_rows) == (2.5, 4, 7, 500)
    assert checked.explore_after_warmstart is True and type(checked.cv) is int
    with pytest.raises(ConfigError, match="n_warmstart must be an integer >= 0, got -1") as error:
        Params.of(AutoClassifier(n_warmstart=np.int64(-1)).get_params())
    assert error.value.fields == ("n_warmstart",)


def test_predicting_with_a_different_number_of_columns_is_refused(mixed_frame):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X.iloc[:, :2].to_numpy())


def test_a_shuffled_frame_index_does_not_realign_rows(mixed_frame):
    X, y = mixed_frame
    order = np.random.default_rng(0).permutation(len(y))
    shuffled, labels = X.iloc[order], y[order]  # index no longer 0..n-1
    model = AutoClassifier(time_budget=30, metabase=None, n_trials=1, cv=2).fit(shuffled, labels)
    assert model.score(shuffled, labels) > 0.7
    np.testing.assert_allclose(model.predict_proba(shuffled),
                               model.predict_proba(shuffled.reset_index(drop=True)))


def test_no_finished_config_falls_back_to_the_majority_class_with_a_warning(mixed_frame):
    X, y = mixed_frame
    y = np.where(np.arange(len(y)) < 80, "no", "yes")
    with pytest.warns(UserWarning, match="no configuration finished"):
        model = AutoClassifier(time_budget=1.5, per_fit_time_limit=0.001, metabase=None,
                               seed=0).fit(X, y)
    assert set(t["status"] for t in model.trials_) == {"timeout"}
    assert model.ensemble_members_ == []
    assert (model.predict(X) == "no").all()
    np.testing.assert_allclose(model.predict_proba(X)[0], [80 / 120, 40 / 120])


def test_trials_list_only_finished_trials(mixed_frame, tiny_metabase):
    X, y = mixed_frame
    model = AutoClassifier(time_budget=30, metabase=tiny_metabase, n_warmstart=2, n_trials=1,
                           cv=2).fit(X, y)
    assert [t["trial"] for t in model.trials_] == [0]  # the second enqueued one never ran
