"""Cross-evaluation of a base's candidates and the greedy neighbour portfolio warm start."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metalab.automl import AutoClassifier
from metalab.automl.datasets import load_keel_corpus
from metalab.automl.evaluate import stratified_sample as _stratified_sample
from metalab.automl.metabase import DatasetRecord, MetaBase, load_metabase
from metalab.automl.portfolio import (
    candidate_configs,
    cross_evaluate,
    portfolio_configs,
    with_cross_scores,
)
from metalab.automl.space import validate_config
from metalab.automl.warmstart import warmstart_configs
from metalab.errors import MetabaseError

from .conftest import KNN, LOGREG


def _forest(n: int) -> dict:
    return {"classifier": "random_forest", "num_imputer": "median", "cat_encoder": "ordinal",
            "random_forest:n_estimators": n, "random_forest:max_features": 0.5,
            "random_forest:min_samples_leaf": 1, "random_forest:class_weight": "none"}


def _crossed_base() -> MetaBase:
    """Four datasets in four groups. A and B (two forests) are best on d1 and d2; only C
    (logistic regression) is good on d3; d4 is far from the others."""
    a, b, c = _forest(100), _forest(101), dict(LOGREG)
    records = (
        DatasetRecord("d1", "g1", {"m": 0.0}, ((0.95, a),)),
        DatasetRecord("d2", "g2", {"m": 1.0}, ((0.94, b),)),
        DatasetRecord("d3", "g3", {"m": 2.0}, ((0.90, c),)),
        DatasetRecord("d4", "g4", {"m": 100.0}, ((0.80, dict(KNN)),)),
    )
    base = MetaBase(records, "crossed")
    scores = {"d1": {"d1": 0.95, "d2": 0.94, "d3": 0.70, "d4": 0.60},
              "d2": {"d1": 0.93, "d2": 0.94, "d3": 0.72, "d4": 0.60},
              "d3": {"d1": 0.60, "d2": 0.61, "d3": 0.90, "d4": 0.50},
              "d4": {"d1": 0.50, "d2": 0.50, "d3": 0.50, "d4": 0.80}}
    return base.with_cross(candidate_configs(base), scores)


def test_candidates_are_the_best_configs_of_at_most_per_group_datasets_per_group():
    records = tuple(
        DatasetRecord(f"e{i}", "ecoli", {"m": float(i)}, ((0.9, _forest(100 + i)),)) for i in range(4)
    ) + (DatasetRecord("e-knn", "ecoli", {"m": 9.0}, ((0.9, dict(KNN)),)),
         DatasetRecord("iris", "iris", {"m": 5.0}, ((0.9, _forest(100)),)))
    candidates = candidate_configs(MetaBase(records), per_group=2)
    # a new model family comes first within a group; a config already taken is not repeated
    assert candidates == {"e0": ("ecoli", _forest(100)), "e-knn": ("ecoli", dict(KNN))}


def test_portfolio_covers_every_neighbour_before_a_second_model_of_one_kind():
    base = _crossed_base()
    picks = portfolio_configs({"m": 0.0}, base, size=2, k=3)
    assert picks == [_forest(101), dict(LOGREG)]  # B is best or near-best on d1 and d2
    # the best-of-each-neighbour warm start repeats the forest instead
    assert warmstart_configs({"m": 0.0}, base, k=2) == [_forest(100), _forest(101)]


def test_portfolio_picks_only_candidates_of_the_searched_families():
    base = _crossed_base()
    picks = portfolio_configs({"m": 0.0}, base, size=2, k=3, families=["logreg", "knn"])
    assert picks and all(p["classifier"] in ("logreg", "knn") for p in picks)
    assert picks[0] == dict(LOGREG)


def test_cost_aware_portfolio_takes_the_most_coverage_per_second_first():
    base = _crossed_base()
    # C (logistic regression) covers only d3 but takes a tenth of the forests' time
    seconds = {d: {"d1": 1.0, "d2": 1.0, "d3": 0.1, "d4": 1.0} for d in ("d1", "d2", "d3", "d4")}
    timed = base.with_cross(base.candidates, base.cross_scores, seconds)
    assert portfolio_configs({"m": 0.0}, timed, size=2, k=3, cost_aware=True) == [dict(LOGREG), _forest(101)]
    # by default, or without seconds, the largest coverage comes first
    assert portfolio_configs({"m": 0.0}, timed, size=2, k=3) == [_forest(101), dict(LOGREG)]
    assert portfolio_configs({"m": 0.0}, base, size=2, k=3, cost_aware=True) == [_forest(101), dict(LOGREG)]
    # equal costs change nothing
    flat = base.with_cross(base.candidates, base.cross_scores,
                           {d: dict.fromkeys(seconds[d], 2.0) for d in seconds})
    assert portfolio_configs({"m": 0.0}, flat, size=4, k=3, cost_aware=True) == portfolio_configs({"m": 0.0}, base, size=4, k=3)
    # the estimator's warmstart="portfolio-cost" starts with the cheap one
    assert AutoClassifier(warmstart="portfolio-cost", metabase=timed)._warm_start({"m": 0.0})[0][0] == dict(LOGREG)
    assert AutoClassifier(metabase=timed)._warm_start({"m": 0.0})[0][0] == _forest(101)


def test_portfolio_leaves_out_the_held_out_groups_datasets_and_candidates():
    base = _crossed_base()
    picks = portfolio_configs({"m": 2.0}, base, size=3, k=3, exclude_groups=["g3"])
    assert dict(LOGREG) not in picks  # g3's own candidate
    held_out = base.without_groups(["g3"])
    assert "d3" not in held_out.candidates and "d3" not in held_out.cross_scores
    assert portfolio_configs({"m": 2.0}, held_out, size=3, k=3) == picks


def test_a_base_without_cross_evaluation_gives_no_portfolio(tiny_metabase):
    assert portfolio_configs({"NumberOfInstances": 100.0}, tiny_metabase, size=3) == []


def test_json_export_round_trips_the_cross_evaluation(tmp_path):
    base = _crossed_base()
    base = base.with_cross(base.candidates, base.cross_scores,
                           {"d1": {"d1": 0.5, "d3": 0.25}, "d2": {"d2": 1.5}})
    base.to_json(tmp_path / "b.json")
    loaded = load_metabase(tmp_path / "b.json")
    assert loaded.candidates == base.candidates
    assert loaded.cross_scores == base.cross_scores
    assert loaded.cross_seconds == base.cross_seconds
    assert base.without_groups(["g2"]).cross_seconds == {"d1": {"d1": 0.5, "d3": 0.25}}


def test_stratified_sample_keeps_every_class_in_proportion():
    y = np.array([0] * 900 + [1] * 95 + [2] * 5)
    rows = _stratified_sample(y, 100, seed=0)
    counts = np.bincount(y[rows])
    assert counts.tolist() == [90, 9, 3] and len(set(rows)) == len(rows)


@pytest.fixture
def two_small(keel_root):
    return load_keel_corpus(keel_root, names=["iris", "zoo-3"])


def test_cross_evaluate_scores_every_candidate_everywhere_and_a_killed_run_resumes(
        two_small, tmp_path):
    base = MetaBase((
        DatasetRecord("iris", "iris", {"m": 0.0}, ((0.9, dict(LOGREG)),)),
        DatasetRecord("zoo-3", "zoo", {"m": 1.0}, ((0.9, dict(KNN)),)),
    ))
    full = tmp_path / "full.jsonl"
    crossed = cross_evaluate(base, two_small, full, log=lambda _: None)
    assert set(crossed.cross_scores) == {"iris", "zoo-3"}
    assert all(set(s) == {"iris", "zoo-3"} for s in crossed.cross_scores.values())
    assert crossed.cross_scores["iris"]["iris"] > 0.8  # logistic regression on iris: real data
    assert all(set(s) == {"iris", "zoo-3"} and min(s.values()) > 0  # and the time each took
               for s in crossed.cross_seconds.values()) and len(crossed.cross_seconds) == 2
    assert cross_evaluate(base, two_small, full, log=lambda _: None) == crossed  # nothing redone
    cut = tmp_path / "cut.jsonl"
    cut.write_text(full.read_text().splitlines()[0] + "\n")  # killed after one score
    resumed = cross_evaluate(base, two_small, cut, log=lambda _: None)
    assert resumed.cross_scores == crossed.cross_scores
    assert len(cut.read_text().splitlines()) == 4
    assert with_cross_scores(base, [cut]).cross_scores == crossed.cross_scores


def test_estimator_starts_with_the_portfolio_of_a_cross_evaluated_base(mixed_frame):
    X, y = mixed_frame
    base = _crossed_base()  # no meta-feature in common with the frame: neighbours by name
    params = dict(time_budget=60, metabase=base, n_warmstart=2, n_trials=2, ensemble_size=1)
    portfolio = AutoClassifier(**params).fit(X, y)
    nearest = AutoClassifier(**params, warmstart="nearest").fit(X, y)
    assert [t["config"] for t in portfolio.trials_] == portfolio_configs({}, base, size=2, k=2)
    assert [t["config"] for t in nearest.trials_] == warmstart_configs({}, base, k=2)
    assert portfolio_configs({}, base, size=2, k=2) != warmstart_configs({}, base, k=2)


def test_cross_evaluate_command_writes_a_base_with_a_portfolio(keel_root, tmp_path, capsys):
    from metalab.cli import main

    base = MetaBase((
        DatasetRecord("iris", "iris", {"m": 0.0}, ((0.9, dict(LOGREG)),)),
        DatasetRecord("zoo-3", "zoo", {"m": 1.0}, ((0.9, dict(KNN)),)),
    ))
    base.to_json(tmp_path / "base.json")
    scores, out = tmp_path / "scores.jsonl", tmp_path / "crossed.json"
    for shard in ("0/2", "1/2"):
        assert main(["automl", "cross-evaluate", "--metabase", str(tmp_path / "base.json"),
                     "--scores", str(scores), "--keel-root", str(keel_root), "--datasets",
                     "iris", "zoo-3", "--shard", shard]) == 0
    assert main(["automl", "cross-evaluate", "--metabase", str(tmp_path / "base.json"),
                 "--scores", str(scores), "--merge-only", "--write", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert {c["origin"] for c in payload["candidates"]} == {"iris", "zoo-3"}
    assert set(payload["cross_scores"]) == {"iris", "zoo-3"}
    assert "2 candidates, 4 scores" in capsys.readouterr().out


def test_candidates_added_from_another_base_are_scored_beside_the_bases_own(
        keel_root, tmp_path, capsys):
    from metalab.cli import main

    base = MetaBase((
        DatasetRecord("iris", "iris", {"m": 0.0}, ((0.9, dict(LOGREG)),)),
        DatasetRecord("zoo-3", "zoo", {"m": 1.0}, ((0.9, dict(KNN)),)),
    ))
    svm = {"classifier": "svm", "num_imputer": "median", "cat_encoder": "onehot",
           "scaler": "standard", "svm:C": 1.0, "svm:gamma": 0.1, "svm:class_weight": "none"}
    other = MetaBase((DatasetRecord("iris", "iris", {"m": 0.0}, ((0.95, svm),)),))
    base.to_json(tmp_path / "base.json")
    other.to_json(tmp_path / "svm_base.json")
    scores, out = tmp_path / "scores.jsonl", tmp_path / "crossed.json"
    assert main(["automl", "cross-evaluate", "--metabase", str(tmp_path / "base.json"),
                 "--add-candidates", str(tmp_path / "svm_base.json"), "--scores", str(scores),
                 "--keel-root", str(keel_root), "--datasets", "iris", "zoo-3",
                 "--write", str(out)]) == 0
    crossed = MetaBase.from_json(out)
    assert crossed.candidates["iris@svm_base"] == ("iris", svm)
    assert set(crossed.candidates) == {"iris", "zoo-3", "iris@svm_base"}
    assert crossed.cross_scores["iris"]["iris@svm_base"] > 0.8  # an RBF SVM on iris
    assert "3 candidates, 6 scores" in capsys.readouterr().out
    assert main(["automl", "cross-evaluate", "--metabase", str(tmp_path / "base.json"),
                 "--add-candidates", str(tmp_path / "svm_base.json"), "--add-per-group", "0",
                 "--scores", str(scores), "--merge-only"]) == 2
    err = capsys.readouterr().err
    assert "add_per_group must be an integer >= 1 (candidates per group), got 0" in err
    assert "add_per_group is --add-per-group" in err


def test_a_larger_per_group_scores_only_the_new_candidates_on_a_copy_of_the_smaller_runs_scores(
        keel_root, tmp_path, capsys):
    from metalab.cli import main

    base = MetaBase((
        DatasetRecord("iris", "iris", {"m": 0.0}, ((0.9, dict(LOGREG)),)),
        DatasetRecord("zoo-3", "zoo", {"m": 1.0}, ((0.9, dict(KNN)),)),
        DatasetRecord("zoo-x", "zoo", {"m": 2.0}, ((0.9, _forest(20)),)),
    ))
    base.to_json(tmp_path / "base.json")
    common = ["automl", "cross-evaluate", "--metabase", str(tmp_path / "base.json"),
              "--keel-root", str(keel_root), "--datasets", "iris", "zoo-3"]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main([*common, "--scores", str(one), "--per-group", "1"]) == 0
    assert {json.loads(line)["candidate"] for line in one.read_text().splitlines()} == {"iris", "zoo-3"}
    two.write_text(one.read_text())
    out = tmp_path / "crossed.json"
    assert main([*common, "--scores", str(two), "--per-group", "2", "--write", str(out)]) == 0
    added = [json.loads(line) for line in two.read_text().splitlines()[4:]]
    assert sorted((r["dataset"], r["candidate"]) for r in added) == [("iris", "zoo-x"), ("zoo-3", "zoo-x")]
    assert {c["origin"] for c in json.loads(out.read_text())["candidates"]} == {"iris", "zoo-3", "zoo-x"}
    assert "3 candidates, 6 scores" in capsys.readouterr().out
    assert main([*common, "--scores", str(two), "--per-group", "0"]) == 2
    assert "per_group must be an integer >= 1 (candidates per group), got 0" in capsys.readouterr().err
    # writing with a larger --per-group than the scores were made with is refused, not zeroed
    assert main([*common, "--scores", str(one), "--merge-only", "--per-group", "2",
                 "--write", str(tmp_path / "wrong.json")]) == 2
    assert "1 of 3 candidates have no score" in capsys.readouterr().err
    assert not (tmp_path / "wrong.json").exists()


def test_shipped_base_is_cross_evaluated_on_every_dataset():
    base = load_metabase("default")
    # every group has a candidate, or its best configuration is a candidate already (letter's
    # best is the default random forest, which other groups found best too)
    configs = [c for _, c in base.candidates.values()]
    for record in base.records:
        if record.group not in {g for g, _ in base.candidates.values()}:
            assert record.configs[0][1] in configs, record.name
    assert len({g for g, _ in base.candidates.values()}) >= 40
    assert set(base.cross_scores) == {r.name for r in base.records}
    for scores in base.cross_scores.values():
        assert set(scores) == set(base.candidates)
        assert all(0.0 <= s <= 1.0 for s in scores.values())
    # and the seconds of each score, which make the portfolio cost-aware
    assert {d: set(s) for d, s in base.cross_seconds.items()} == {d: set(s) for d, s in base.cross_scores.items()}
    assert all(0.0 < t < 60.0 for s in base.cross_seconds.values() for t in s.values())
    for _, config in base.candidates.values():
        validate_config(config)
    # a candidate scores on its own dataset what the base's own search found (same folds and
    # seeds) unless that dataset was sampled down to 1,000 rows for the cross-evaluation; up to
    # round-off (an unconverged logistic regression on vehicle moves in the third decimal)
    records = {r.name: r for r in base.records}
    exact = [o for o in base.candidates if records[o].metafeatures["NumberOfInstances"] <= 1000]
    assert len(exact) >= 20
    for origin in exact:
        assert base.cross_scores[origin][origin] == pytest.approx(records[origin].configs[0][0], abs=0.005)


def test_cross_evaluation_written_into_the_optuna_storage_gives_that_storage_a_portfolio(
        keel_root, tmp_path, capsys):
    from metalab.automl.build import build_metabase
    from metalab.automl.metabase import store_cross
    from metalab.cli import main

    storage = tmp_path / "base.db"
    build_metabase(load_keel_corpus(keel_root, names=["iris", "zoo-3"]), storage,
                   time_budget=60, n_trials=2, log=lambda _: None)
    before = load_metabase(storage)
    assert not before.candidates and not before.cross_scores
    scores = tmp_path / "scores.jsonl"
    assert main(["automl", "cross-evaluate", "--metabase", str(storage), "--scores", str(scores),
                 "--keel-root", str(keel_root), "--datasets", "iris", "zoo-3",
                 "--write", str(storage)]) == 0
    after = load_metabase(storage)
    expected = with_cross_scores(before, [scores])
    assert after.candidates == expected.candidates and after.candidates
    assert after.cross_scores == expected.cross_scores
    assert after.cross_seconds == expected.cross_seconds and after.cross_seconds
    assert set(after.cross_scores) == {"iris", "zoo-3"}
    assert after.records == before.records  # the searches' trials are untouched
    assert portfolio_configs(after.records[0].metafeatures, after, size=2, k=2)
    # the JSON export of the storage carries the cross-evaluation along
    assert main(["automl", "export-metabase", "--storage", str(storage),
                 "--out", str(tmp_path / "b.json")]) == 0
    assert f"{len(after.candidates)} cross-evaluated candidates" in capsys.readouterr().out
    assert load_metabase(tmp_path / "b.json").cross_scores == after.cross_scores
    # a base with a dataset the storage has no study for is refused, naming it
    stranger = MetaBase((DatasetRecord("wine", "wine", {"m": 0.0}, ()),))
    with pytest.raises(MetabaseError, match="no study for dataset 'wine'"):
        store_cross(stranger, storage)
