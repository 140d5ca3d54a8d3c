"""automl_peers_report.py: failures at 0.5, normalised balanced error, Holm's correction,
wins/ties/losses, Friedman, wall time against the budget."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("scipy")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from automl_peers_report import (  # noqa: E402
    budget_efficiency,
    comparisons,
    dataset_kinds,
    friedman,
    holm,
    main,
    near_ties,
    normalised_balanced_error,
    score_failures,
    timing,
    warm_vs_cold,
)


def test_normalised_balanced_error_is_0_for_the_best_1_for_the_worst_and_0_when_all_tie():
    wide = pd.DataFrame({"warm": [0.9, 0.7], "flaml": [0.8, 0.7], "hgb": [0.5, 0.7]})
    nber = normalised_balanced_error(wide)
    assert np.allclose(nber.loc[0], [0.0, 0.25, 1.0])  # errors 0.1, 0.2, 0.5
    assert np.allclose(nber.loc[1], 0.0)


def test_holm_multiplies_the_k_th_smallest_p_by_m_minus_k_plus_1_keeps_order_and_caps_at_1():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": float("nan"), "e": 0.5})
    assert adjusted["a"] == pytest.approx(0.04)  # 4 tested: 0.01 * 4
    assert adjusted["c"] == pytest.approx(0.09)  # 0.03 * 3
    assert adjusted["b"] == pytest.approx(0.09)  # 0.04 * 2 = 0.08, raised to the previous 0.09
    assert adjusted["e"] == pytest.approx(0.5)
    assert np.isnan(adjusted["d"])
    assert holm({"a": 0.6, "b": 0.7})["a"] == 1.0


def test_comparisons_count_wins_ties_losses_and_a_clear_lead_is_significant_after_holm():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, 30)
    wide = pd.DataFrame({"warm": base + 0.05, "flaml": base, "hgb": base + 0.05 * (np.arange(30) % 2)})
    table = comparisons(wide, "warm")
    assert table.loc["flaml", ["wins", "ties", "losses"]].tolist() == [30, 0, 0]
    assert table.loc["hgb", ["wins", "ties", "losses"]].tolist() == [15, 15, 0]
    assert table.loc["flaml", "p_holm"] < 0.001
    assert table.loc["flaml", "p_holm"] >= table.loc["flaml", "p"]
    assert friedman(wide) < 0.001
    assert np.isnan(friedman(wide[["warm", "flaml"]]))


def test_a_failed_run_counts_as_balanced_accuracy_0_5_and_in_the_failure_rate():
    rows = pd.DataFrame({"method": ["flaml", "flaml", "warm"], "budget": [10.0, 10.0, 10.0],
                         "test_balanced_accuracy": [0.9, float("nan"), 0.3],
                         "failed": [False, None, True], "wall_seconds": [10.0, 12.0, 11.0]})
    scored = score_failures(rows)
    assert scored["test_balanced_accuracy"].tolist() == [0.9, 0.5, 0.5]
    times = timing(scored)
    assert times.loc[("flaml", 10.0), "failure_rate"] == 0.5
    assert times.loc[("flaml", 10.0), "max"] == pytest.approx(1.2)
    assert times.loc[("flaml", 10.0), "p95"] == pytest.approx(np.percentile([1.0, 1.2], 95))


def _row(dataset, method, budget, score, wall, failed=False):
    return {"dataset": dataset, "group": dataset, "method": method, "budget": budget, "seed": 0,
            "test_balanced_accuracy": score, "wall_seconds": wall, "failed": failed}


def test_the_report_ranks_systems_and_compares_budgets_from_the_jsonl_rows(tmp_path, capsys):
    rows = []
    for i in range(6):
        d = f"d{i}"
        rows += [_row(d, "warm", 10, 0.9, 10.2), _row(d, "cold", 10, 0.85, 10.1),
                 _row(d, "flaml", 10, 0.8, 10.5), _row(d, "autogluon", 10, 0.7, 13.0),
                 _row(d, "hgb", None, 0.6, 0.3), _row(d, "flaml", 60, 0.88, 61.0)]
    rows[3] = _row("d0", "autogluon", 10, None, 30.0, failed=True)
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main([str(path), "--md", str(tmp_path / "t.md"), "--plot-rank", str(tmp_path / "rank.png")]) == 0
    assert (tmp_path / "rank.png").stat().st_size > 1000
    text = (tmp_path / "t.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("| (a)"))  # the 10 s section comes first
    assert line.split("|")[2].strip() == "1.00"  # warm ranks first on every dataset at 10 s
    ag = next(x for x in text.splitlines() if x.startswith("| (d)"))
    cells = [c.strip() for c in ag.split("|")]
    assert cells[3] == f"{(0.5 + 5 * 0.7) / 6:.4f}"  # the failed run counts 0.5
    assert cells[5] == "6/0/0" and cells[8] == "17% of 6"
    assert cells[7].startswith(f"{np.percentile([1.3] * 5 + [3.0], 95):.2f}")
    assert "at 10 s: mean balanced accuracy 0.9000" in text and "at 60 s: 0.8800" in text
    assert budget_efficiency(score_failures(pd.DataFrame(rows)), 10, 60).endswith("(6 datasets; 6/0/0 wins/ties/losses).")


def test_datasets_are_split_by_the_keel_manifests_kind_and_nothing_without_a_keel_folder(tmp_path, monkeypatch):
    manifest = {"datasets": [{"name": "a", "kind": "balanced"}, {"name": "b", "kind": "imbalanced"},
                             {"name": "c", "kind": "imbalanced"}, {"name": "unrun", "kind": "balanced"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert dataset_kinds(str(tmp_path), {"a", "b", "c"}) == {"balanced": ["a"], "imbalanced": ["b", "c"]}
    monkeypatch.delenv("METALAB_KEEL", raising=False)
    assert dataset_kinds(None, {"a"}) == {}


def test_warm_vs_cold_reports_trials_and_the_cross_validated_and_test_differences():
    rows = []
    for i, (cv_w, cv_c, t_w, t_c) in enumerate([(0.9, 0.8, 0.9, 0.8), (0.8, 0.9, 0.7, 0.9), (0.85, 0.85, 0.8, 0.8)]):
        rows += [{**_row(f"d{i}", "warm", 60, t_w, 59.0), "cv_ensemble": cv_w, "trials": 100},
                 {**_row(f"d{i}", "cold", 60, t_c, 59.0), "cv_ensemble": cv_c, "trials": 90}]
    rows.append({**_row("d3", "warm", 60, 0.9, 59.0), "cv_ensemble": 0.9, "trials": 80})  # no cold run: left out
    line = warm_vs_cold(score_failures(pd.DataFrame(rows)), 60)
    assert line.startswith("Warm start against cold start at 60 s (3 runs): median trials 100 warm, 90 cold")
    assert "warm - cold +0.0000 (warm higher/equal/lower 1/1/1)" in line
    assert f"test balanced accuracy warm - cold {(0.1 - 0.2) / 3:+.4f} (1/1/1)" in line
    assert f"correlation of the two differences {np.corrcoef([0.1, -0.1, 0], [0.1, -0.2, 0])[0, 1]:+.2f}." in line
    assert warm_vs_cold(score_failures(pd.DataFrame(rows)), 10) == ""


def test_near_ties_separate_datasets_where_all_systems_lie_within_0_01_from_the_rest():
    scores = {"tie": {"warm": 0.995, "cold": 1.0, "flaml": 0.999},   # warm 1.0, cold 0.0 after normalising
              "far": {"warm": 0.9, "cold": 0.8, "flaml": 0.7}}       # warm 0.0, cold 0.5
    rows = [_row(d, m, 60, v, 59.0) for d, by in scores.items() for m, v in by.items()]
    line = near_ties(score_failures(pd.DataFrame(rows)), 60)
    assert line.startswith("Near ties at 60 s: on 1 of 2 datasets all systems lie within 0.01")
    assert "sums to +1.00 (balanced accuracy warm - cold -0.0050), against -0.50 on the other 1" in line
    assert line.endswith("normalised balanced error is 0.000 warm and 0.500 cold.")
    assert near_ties(score_failures(pd.DataFrame([r for r in rows if r["method"] != "cold"])), 60) == ""
