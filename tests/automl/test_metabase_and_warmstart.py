"""The metabase (Optuna storage, JSON export, shipped default) and the warm start from it."""

from __future__ import annotations

import json
import multiprocessing as mp

import numpy as np
import optuna
import pytest

from metalab.automl.build import build_metabase
from metalab.automl.datasets import load_keel_corpus
from metalab.automl.metabase import (
    DEFAULT_METABASE,
    STUDY_PREFIX,
    DatasetRecord,
    MetaBase,
    load_metabase,
)
from metalab.automl.metafeatures import METAFEATURE_NAMES
from metalab.automl.space import DEFAULT_CONFIG, validate_config
from metalab.automl.warmstart import nearest_datasets, warmstart_configs
from metalab.errors import MetabaseError

from .conftest import KNN, LOGREG

SMALL = ["iris", "zoo-3", "hayes-roth"]


def _record(name, group, mf, configs):
    return DatasetRecord(name, group, mf, tuple(configs))


def test_nearest_datasets_use_l1_on_min_max_scaled_metafeatures():
    base = MetaBase((
        _record("a", "ga", {"n": 0.0, "p": 0.0}, [(0.9, LOGREG)]),
        _record("b", "gb", {"n": 10.0, "p": 100.0}, [(0.8, KNN)]),
        _record("c", "gc", {"n": 4.0, "p": 100.0}, [(0.7, LOGREG)]),
    ))
    query = {"n": 5.0, "p": 20.0}
    # ranges over base + query: n in [0, 10], p in [0, 100]
    expected = {"a": 0.5 + 0.2, "b": 0.5 + 0.8, "c": 0.1 + 0.8}
    found = nearest_datasets(query, base, k=3)
    assert [r.name for r, _ in found] == ["a", "c", "b"]
    for record, distance in found:
        assert distance == pytest.approx(expected[record.name])
    assert [r.name for r, _ in nearest_datasets(query, base, k=2, exclude_groups=["ga"])] == ["c", "b"]


def test_warmstart_configs_are_the_nearest_datasets_best_ones_without_repeats():
    base = MetaBase((
        _record("a", "g", {"n": 0.0}, [(0.9, LOGREG), (0.5, KNN)]),
        _record("b", "g", {"n": 1.0}, [(0.8, LOGREG)]),
        _record("c", "g", {"n": 2.0}, [(0.8, KNN)]),
        _record("d", "g", {"n": 3.0}, []),
    ))
    assert warmstart_configs({"n": 0.0}, base, k=3) == [LOGREG, KNN]
    assert warmstart_configs({"n": 0.0}, base, k=1, per_dataset=2) == [LOGREG, KNN]
    assert warmstart_configs({"n": 3.0}, base, k=1) == [KNN]  # "d" has no config


def _fill(storage, names, root):
    build_metabase(load_keel_corpus(root, names=names), storage, time_budget=60, n_trials=1,
                   log=lambda line: None)


def test_build_stores_metafeatures_and_every_trial(keel_root, tmp_path):
    storage = tmp_path / "base.db"
    # a generous budget with a trial cap: quick on an idle machine, still right on a busy one
    added = build_metabase(load_keel_corpus(keel_root, names=["iris"]), storage,
                           time_budget=60, n_trials=3, log=lambda line: None)
    assert added == ["iris"]
    study = optuna.load_study(study_name=STUDY_PREFIX + "iris", storage=f"sqlite:///{storage}")
    assert study.user_attrs["complete"] is True
    assert study.user_attrs["group"] == "iris"
    assert list(study.user_attrs["metafeatures"]) == list(METAFEATURE_NAMES)
    assert len(study.trials) == 3
    assert study.trials[0].params == DEFAULT_CONFIG  # a cold start begins with the default
    base = load_metabase(storage)
    (record,) = base.records
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(record.configs) == len(done) >= 1
    assert record.configs[0][0] == max(t.value for t in done)
    # a second call skips the dataset already in the base
    assert build_metabase(load_keel_corpus(keel_root, names=["iris"]), storage,
                          time_budget=60, n_trials=1, log=lambda line: None) == []


def test_two_workers_fill_one_storage_at_once_without_duplicates(keel_root, tmp_path):
    storage = str(tmp_path / "shared.db")
    build_metabase([], storage)  # create the tables first, as build_metabase_parallel does
    # spawn, not fork: a worker forked from this process would inherit the OpenMP thread pool
    # that earlier tests' PyTorch started, and GNU OpenMP can hang in such a child.
    context = mp.get_context("spawn")
    workers = [context.Process(target=_fill, args=(storage, order, keel_root))
               for order in (SMALL, SMALL[::-1])]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    names = [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{storage}")]
    assert sorted(names) == sorted(STUDY_PREFIX + n for n in SMALL)
    assert sorted(r.name for r in load_metabase(storage).records) == sorted(SMALL)


def test_json_export_round_trips_the_best_configs(tmp_path):
    base = MetaBase((_record("a", "g", {"n": 1.0}, [(0.9, LOGREG), (0.5, KNN)]),))
    path = tmp_path / "base.json"
    base.to_json(path, top=1, info={"built": "test"})
    again = load_metabase(path)
    assert again.records[0].configs == ((0.9, LOGREG),)
    assert again.info == {"built": "test"}


def test_unreachable_or_missing_metabases_are_clear_errors(tmp_path):
    with pytest.raises(MetabaseError, match="no metabase at"):
        load_metabase(tmp_path / "absent.db")
    with pytest.raises(MetabaseError, match="no metabase file at"):
        load_metabase(tmp_path / "absent.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(MetabaseError, match="not a metalab metabase export"):
        load_metabase(tmp_path / "other.json")
    with pytest.raises(MetabaseError, match="cannot open the metabase"):
        load_metabase("mysql+nodriver://user@127.0.0.1:1/base")


def test_shipped_default_metabase_is_small_and_valid():
    assert DEFAULT_METABASE.stat().st_size < 2 * 1024 * 1024
    base = load_metabase("default")
    assert len(base) >= 80
    for record in base.records:
        assert list(record.metafeatures) == list(METAFEATURE_NAMES)
        scores = [score for score, _ in record.configs]
        assert scores == sorted(scores, reverse=True)
        for _, config in record.configs:
            validate_config(config)


def test_default_base_warm_start_excludes_a_held_out_group(keel_root):
    from metalab.automl.datasets import load_keel
    from metalab.automl.metafeatures import compute_metafeatures

    yeast = load_keel("yeast4", keel_root)
    mf = compute_metafeatures(yeast.X, yeast.y)
    base = load_metabase("default")
    found = nearest_datasets(mf, base, k=5, exclude_groups=["yeast"])
    assert len(found) == 5 and all(r.group != "yeast" for r, _ in found)
    assert np.all(np.diff([d for _, d in found]) >= 0)
