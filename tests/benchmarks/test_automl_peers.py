"""automl_peers.py: the runs of every installed system on real KEEL splits, resuming, and
failures scored as a constant predictor. Peers that are not installed are left out, so the
core install (without the bench extra) runs these tests too."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("optuna")
tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import automl_peers  # noqa: E402
from automl_peers import (  # noqa: E402
    FAILED_SCORE,
    SYSTEMS,
    autogluon_preset,
    hard_limit,
    installed_systems,
    run_isolated,
    run_one,
)

TINY = ["iris0", "shuttle-c2-vs-c4"]  # 150 and 129 rows, two groups


@pytest.fixture(scope="module")
def keel() -> Path:
    root = Path(os.environ.get("METALAB_KEEL", ROOT / ".." / "shared" / "data" / "keel")).resolve()
    if not (root / "manifest.json").is_file():
        pytest.skip(f"KEEL corpus not found at {root}; set METALAB_KEEL")
    return root


@pytest.fixture(scope="module")
def first_run(keel: Path, tmp_path_factory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("peers") / "runs.jsonl"
    automl_peers.main(["run", "--keel-root", str(keel), "--budgets", "2", "--seeds", "0",
                       "--datasets", *TINY, "--out", str(out)])
    return out, installed_systems(list(SYSTEMS))


def _rows(path: Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True)


def test_every_installed_system_runs_on_two_keel_datasets_with_its_wall_time_against_the_budget(first_run):
    out, systems = first_run
    rows = _rows(out)
    assert sorted(rows["method"].unique()) == sorted(systems)
    assert len(rows) == len(TINY) * len(systems)
    assert set(rows["dataset"]) == set(TINY) and set(rows["group"]) == {"iris", "shuttle"}
    assert rows["test_balanced_accuracy"].between(0, 1).all()
    assert not rows["failed"].any(), rows.loc[rows["failed"], ["dataset", "method", "error"]].to_string()
    budgeted = rows[rows["method"] != "hgb"]
    assert (budgeted["budget"] == 2).all()
    assert np.allclose(budgeted["wall_over_budget"], budgeted["wall_seconds"] / 2)
    assert rows["hgb" == rows["method"]]["budget"].isna().all()
    assert (rows["wall_seconds"] > 0).all() and (rows["total_seconds"] >= rows["wall_seconds"]).all()
    assert rows["machine"].str.contains("python").all() and rows["cores"].map(len).ge(1).all()


def test_the_peers_and_the_baseline_learn_iris0_so_labels_and_predictions_line_up(first_run):
    out, systems = first_run
    rows = _rows(out).set_index(["dataset", "method"])
    for system in [s for s in systems if s in ("flaml", "autogluon", "hgb")]:
        row = rows.loc[("iris0", system)]
        assert not row["failed"], row.get("error")
        assert row["test_balanced_accuracy"] > 0.8, system  # chance is 0.5


def test_a_rerun_redoes_no_finished_row(first_run, keel, monkeypatch):
    out, _ = first_run
    before = out.read_bytes()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished row was run again")

    for system in SYSTEMS:
        monkeypatch.setitem(automl_peers.RUNNERS, system, must_not_run)
    automl_peers.main(["run", "--keel-root", str(keel), "--budgets", "2", "--seeds", "0",
                       "--datasets", *TINY, "--out", str(out)])
    assert out.read_bytes() == before


def _tiny_split() -> tuple:
    X = pd.DataFrame({"a": np.arange(20.0)})
    y = np.array(["p", "q"] * 10)
    return X[:14], X[14:], y[:14], y[14:]


def test_a_system_that_raises_scores_a_constant_predictors_0_5_and_is_marked_failed(monkeypatch):
    def broken(budget, seed, data):
        raise MemoryError("out of memory")

    monkeypatch.setitem(automl_peers.RUNNERS, "flaml", broken)
    row = run_one("flaml", 3.0, 0, _tiny_split())
    assert row["failed"] and row["test_balanced_accuracy"] == FAILED_SCORE == 0.5
    assert row["error"] == "MemoryError: out of memory"
    assert row["wall_over_budget"] == row["wall_seconds"] / 3.0


@pytest.mark.parametrize("predicted", [None, np.array(["p"])])
def test_a_system_that_predicts_nothing_or_too_little_counts_as_failed(monkeypatch, predicted):
    monkeypatch.setitem(automl_peers.RUNNERS, "autogluon",
                        lambda budget, seed, data: (predicted, {"wall_seconds": 0.1}))
    row = run_one("autogluon", 3.0, 0, _tiny_split())
    assert row["failed"] and row["test_balanced_accuracy"] == 0.5
    assert "predictions for 6 test rows" in row["error"]


def test_a_working_system_is_scored_on_the_test_part():
    row = run_one("hgb", None, 0, _tiny_split())
    assert not row["failed"] and row["wall_over_budget"] is None
    assert 0 <= row["test_balanced_accuracy"] <= 1


def test_a_run_in_its_own_process_returns_the_same_row_as_in_this_one():
    row = run_isolated("hgb", None, 0, _tiny_split(), limit=60)
    assert not row["failed"] and "killed" not in row
    assert row["test_balanced_accuracy"] == run_one("hgb", None, 0, _tiny_split())["test_balanced_accuracy"]


def test_a_hanging_system_is_killed_at_the_hard_limit_with_its_children_and_counts_as_failed(
        monkeypatch, tmp_path):
    import subprocess
    import time

    marker = tmp_path / "grandchild.pid"

    def hangs(budget, seed, data):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        marker.write_text(str(child.pid))
        time.sleep(60)

    monkeypatch.setitem(automl_peers.RUNNERS, "flaml", hangs)
    start = time.monotonic()
    row = run_isolated("flaml", 0.5, 0, _tiny_split(), limit=1.5)
    assert time.monotonic() - start < 10
    assert row["failed"] and row["killed"] and row["test_balanced_accuracy"] == 0.5
    assert "hard limit of 1.5 s" in row["error"] and row["wall_over_budget"] >= 3
    pid = int(marker.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_system_that_kills_its_process_counts_as_failed_with_the_exit_code(monkeypatch):
    monkeypatch.setitem(automl_peers.RUNNERS, "autogluon", lambda budget, seed, data: os._exit(3))
    row = run_isolated("autogluon", 2.0, 0, _tiny_split(), limit=30)
    assert row["failed"] and "exit code 3" in row["error"] and row["test_balanced_accuracy"] == 0.5


def test_what_a_system_leaves_in_its_working_folder_is_removed_with_it(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def leaves_a_folder(budget, seed, data):
        Path("catboost_info").mkdir()
        return np.array(["p"] * 6), {"folder": os.getcwd()}

    monkeypatch.setitem(automl_peers.RUNNERS, "flaml", leaves_a_folder)
    row = run_isolated("flaml", 2.0, 0, _tiny_split(), limit=30)
    assert not row["failed"] and Path(row["folder"]) != tmp_path
    assert not Path(row["folder"]).exists() and not (tmp_path / "catboost_info").exists()


def test_the_hard_limit_is_a_multiple_of_the_budget_with_a_floor():
    assert hard_limit(10, 20, 300) == 300 and hard_limit(60, 20, 300) == 1200
    assert hard_limit(None, 20, 300) == 300


def test_autogluon_uses_medium_quality_below_60_s_and_good_quality_from_60_s():
    assert [autogluon_preset(b) for b in (2, 10, 59.9, 60, 300)] == [
        "medium_quality", "medium_quality", "medium_quality", "good_quality", "good_quality"]


def test_a_peer_that_is_not_installed_is_left_out_with_the_install_command(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "flaml" else real(name, *a))
    assert installed_systems(["warm", "flaml", "hgb"]) == ["warm", "hgb"]
    assert "pip install -e '.[automl,bench]'" in capsys.readouterr().err


def test_the_peers_are_in_the_bench_extra_only_never_in_the_core_install_or_ci():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    bench = " ".join(extras["bench"]).lower()
    assert "flaml" in bench and "autogluon.tabular" in bench
    assert "torch" not in bench  # AutoGluon's torch models would pull another torch build
    for name, deps in [("core", project["dependencies"])] + [(k, v) for k, v in extras.items() if k != "bench"]:
        assert not any(d.lower().startswith(("flaml", "autogluon")) for d in deps), name
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bench" not in ci
