"""The leave-one-group-out report's bookkeeping: which rows count and how (a) vs (b) is read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("scipy")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from automl_logo_report import load_rows, pairwise_table, warm_versus_cold  # noqa: E402


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_a_later_files_row_replaces_the_earlier_one_for_the_same_dataset_method_and_budget(tmp_path):
    first = _write(tmp_path / "a.jsonl", [
        {"dataset": "d1", "method": "warm", "budget": 10, "test_balanced_accuracy": 0.5},
        {"dataset": "d1", "method": "cold", "budget": 10, "test_balanced_accuracy": 0.6},
        {"dataset": "d1", "method": "warm", "budget": 30, "test_balanced_accuracy": 0.7},
        {"dataset": "d1", "method": "sklearn", "budget": None, "test_balanced_accuracy": 0.4},
    ])
    second = _write(tmp_path / "b.jsonl", [
        {"dataset": "d1", "method": "warm", "budget": 10, "test_balanced_accuracy": 0.9},
        {"dataset": "d1", "method": "sklearn", "budget": None, "test_balanced_accuracy": 0.3},
    ])
    rows = load_rows([first, second]).set_index(["method", "budget"])["test_balanced_accuracy"]
    assert len(rows) == 4
    assert rows[("warm", 10.0)] == 0.9  # replaced
    assert rows[("warm", 30.0)] == 0.7  # another budget: kept
    assert rows[("cold", 10.0)] == 0.6
    assert rows.xs("sklearn", level="method").tolist() == [0.3]  # budget-free rows too


def test_warm_versus_cold_counts_ties_and_the_ceiling_where_no_strict_win_is_possible():
    wide = pd.DataFrame({"warm": [1.0, 0.9, 0.8, 0.7, 1.0], "cold": [1.0, 0.8, 0.9, 0.6, 0.95]})
    text = warm_versus_cold(wide)
    assert text.startswith("(a) vs (b): 3 wins, 1 ties, 1 losses (60% strict wins, 80% wins or ties)")
    assert "(b) scores 1.0 on 1 datasets, so at most 80% strict wins are possible" in text
    assert "p = " in text and "p = nan" not in text


def test_pairwise_table_gives_the_strict_win_share_of_each_ordered_pair():
    wide = pd.DataFrame({"warm": [0.9, 0.9, 0.5, 0.7], "cold": [0.8, 0.9, 0.6, 0.6]})
    lines = pairwise_table(wide).splitlines()
    assert lines[2].split("|")[2:4] == ["  ", " 50% "]  # warm beats cold on 2 of 4
    assert lines[3].split("|")[2:4] == [" 25% ", "  "]  # cold beats warm on 1 of 4


def test_warm_versus_cold_names_the_experiment_when_it_stands_in_for_the_warm_start():
    wide = pd.DataFrame({"warm-explore": [0.9, 0.8], "cold": [0.8, 0.8]})
    text = warm_versus_cold(wide, "warm-explore")
    assert text.startswith("(a') vs (b): 1 wins, 1 ties, 0 losses")
    assert "test of (a') > (b)" in text


def test_split_warm_keeps_the_nearest_datasets_warm_rows_beside_the_portfolios(tmp_path):
    old = _write(tmp_path / "old.jsonl", [  # before 2026-12-02: no "warmstart" field
        {"dataset": "d1", "method": "warm", "budget": 10, "test_balanced_accuracy": 0.5},
        {"dataset": "d1", "method": "cold", "budget": 10, "test_balanced_accuracy": 0.6},
    ])
    new = _write(tmp_path / "new.jsonl", [
        {"dataset": "d1", "method": "warm", "budget": 10, "test_balanced_accuracy": 0.9,
         "warmstart": "portfolio"},
        {"dataset": "d2", "method": "warm", "budget": 10, "test_balanced_accuracy": 0.7,
         "warmstart": "nearest"},
    ])
    assert len(load_rows([old, new])) == 3  # the portfolio's row replaces the old warm row
    rows = load_rows([old, new], split_warm=True).set_index(["dataset", "method"])
    assert rows["test_balanced_accuracy"].to_dict() == {
        ("d1", "warm-nearest"): 0.5, ("d1", "cold"): 0.6, ("d1", "warm"): 0.9,
        ("d2", "warm-nearest"): 0.7}


def test_rows_of_other_split_seeds_are_repeats_averaged_over_the_seeds_every_method_ran(tmp_path):
    from automl_logo_report import ranks

    rows = load_rows([_write(tmp_path / "s.jsonl", [
        {"dataset": "d1", "method": "warm", "budget": 10, "seed": 0, "test_balanced_accuracy": 0.9},
        {"dataset": "d1", "method": "cold", "budget": 10, "seed": 0, "test_balanced_accuracy": 0.9},
        {"dataset": "d1", "method": "warm", "budget": 10, "seed": 1, "test_balanced_accuracy": 0.8},
        {"dataset": "d1", "method": "cold", "budget": 10, "seed": 1, "test_balanced_accuracy": 0.6},
        {"dataset": "d1", "method": "warm", "budget": 10, "seed": 2, "test_balanced_accuracy": 0.1},
    ])])
    assert len(rows) == 5  # another seed is not a rerun: nothing replaced
    table = ranks(rows).set_index("method")
    # seed 2 has no cold row, so it is left out: warm (0.9 + 0.8) / 2 against cold (0.9 + 0.6) / 2
    assert table.loc["warm", "score"] == pytest.approx(0.85)
    assert table.loc["cold", "score"] == pytest.approx(0.75)
    assert table.loc["warm", "rank"] == 1.0 and table.loc["cold", "rank"] == 2.0


def test_equal_means_over_seeds_tie_whatever_the_order_of_the_scores():
    from automl_logo_report import _per_dataset

    scores = (0.1, 0.2, 0.3)  # (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1 in floats
    at = pd.DataFrame([{"dataset": "d", "seed": s, "method": m, "test_balanced_accuracy": v}
                       for m, order in (("warm", scores), ("cold", scores[::-1]))
                       for s, v in enumerate(order)])
    wide = _per_dataset(at, "test_balanced_accuracy")
    assert wide.loc["d", "warm"] == wide.loc["d", "cold"]
    assert warm_versus_cold(wide).startswith("(a) vs (b): 0 wins, 1 ties, 0 losses")


def test_cv_versus_test_reports_where_the_test_split_follows_the_cross_validated_sign():
    from automl_logo_report import cv_versus_test

    at = pd.DataFrame([
        {"dataset": d, "seed": 0, "method": m, "cv_ensemble": cv, "test_balanced_accuracy": te}
        for d, (cw, cc, tw, tc) in {"d1": (0.9, 0.8, 0.9, 0.8), "d2": (0.9, 0.8, 0.7, 0.8),
                                    "d3": (0.7, 0.8, 0.9, 0.8), "d4": (0.8, 0.8, 0.8, 0.8)}.items()
        for m, cv, te in (("warm", cw, tw), ("cold", cc, tc))])
    text = cv_versus_test(at)
    assert text.startswith("On CV balanced accuracy (training part) (a) > (b) on 2 datasets, = on 1, "
                           "< on 1 of 4")
    assert text.endswith("the test split agrees on 1 of the 2 and 0 of the 1")
    assert cv_versus_test(at.drop(columns="cv_ensemble")) == ""


def test_lead_over_time_counts_who_has_the_better_cv_score_so_far_at_each_fraction_of_the_budget():
    from automl_logo_report import lead_over_time

    runs = pd.DataFrame([
        # d1: warm leads early, cold catches up to a tie by the end
        {"dataset": "d1", "seed": 0, "method": "warm", "budget": 10.0, "history": [[0.5, 0.8], [6, 0.9]]},
        {"dataset": "d1", "seed": 0, "method": "cold", "budget": 10.0, "history": [[2, 0.7], [9, 0.9]]},
        # d2: cold has no trial before 3 s, then overtakes
        {"dataset": "d2", "seed": 0, "method": "warm", "budget": 10.0, "history": [[0.9, 0.6], [4, 0.6]]},
        {"dataset": "d2", "seed": 0, "method": "cold", "budget": 10.0, "history": [[3.5, 0.7], [4.5, None]]},
    ])
    text = lead_over_time(runs, fractions=(0.05, 0.1, 0.3, 1.0))
    assert text.startswith("Best single CV score so far, (a) vs (b), wins/ties/losses over 2 runs")
    assert "0.5 s: 1/1/0 (50% strict)" in text  # d2: neither has a trial yet, a tie
    assert "1 s: 2/0/0 (100% strict)" in text
    assert "3 s: 2/0/0 (100% strict)" in text
    assert "10 s: 0/1/1 (0% strict)" in text
    assert lead_over_time(runs.drop(columns="history")) == ""
