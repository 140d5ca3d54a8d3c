"""``metalab automl``: fit a CSV, print meta-features, build and export a base; clean errors."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from metalab.automl.saved import load_model
from metalab.cli import automl as automl_cli


def _main(argv: list[str]) -> int:
    """Run ``metalab automl ...`` through the sub-command's own parser and the CLI's error path."""
    from metalab.cli import main

    try:
        return main(["automl", *argv])
    except SystemExit as exit_:  # argparse usage errors
        return int(exit_.code)


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,colour,label"]
    for i in range(80):
        label = i % 2
        rows.append(f"{label * 2 + rng.normal():.3f},{rng.normal():.3f},{'red' if label else 'blue'},"
                    f"{'yes' if label else 'no'}")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_add_parser_registers_the_automl_command():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    automl_cli.add_parser(sub)
    args = parser.parse_args(["automl", "fit", "x.csv", "--target", "y", "--out", "o"])
    assert args.func is automl_cli.run_fit and args.budget == 60.0 and args.metabase == "default"


def test_fit_prints_a_leaderboard_and_saves_the_model(csv_file, tmp_path, capsys):
    out = tmp_path / "run"
    code = _main(["fit", str(csv_file), "--target", "label", "--budget", "10", "--metabase",
                  "none", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "cv_balanced_accuracy" in printed and "ensemble of" in printed
    model = load_model(out / "model.skops")
    assert set(model.classes_) == {"no", "yes"}
    run = json.loads((out / "run.json").read_text())
    assert run["target"] == "label" and run["params"]["metabase"] is None
    assert (out / "leaderboard.csv").read_text().startswith("trial,classifier")


def test_fit_shows_progress_unless_told_not_to(csv_file, tmp_path, capsys):
    assert _main(["fit", str(csv_file), "--target", "label", "--budget", "2", "--metabase",
                  "none", "--out", str(tmp_path / "a")]) == 0
    assert "AutoClassifier:" in capsys.readouterr().err
    assert _main(["fit", str(csv_file), "--target", "label", "--budget", "2", "--metabase",
                  "none", "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    assert "AutoClassifier:" not in capsys.readouterr().err


def test_fit_searches_only_the_named_families(csv_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["fit", str(csv_file), "--target", "label", "--budget", "3", "--metabase",
                  "none", "--families", "svm", "--out", str(out)]) == 0
    board = (out / "leaderboard.csv").read_text().splitlines()[1:]
    assert board and all(line.split(",")[1] == "svm" for line in board)


def test_fit_with_a_missing_target_column_is_a_clean_error(csv_file, tmp_path, capsys):
    code = _main(["fit", str(csv_file), "--target", "nope", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "metalab: error: target column 'nope' is not in data.csv" in err
    assert "Traceback" not in err


def test_fit_with_an_unreachable_metabase_is_a_clean_error(csv_file, tmp_path, capsys):
    code = _main(["fit", str(csv_file), "--target", "label", "--metabase",
                  str(tmp_path / "absent.db"), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"no such metabase file: '{tmp_path / 'absent.db'}'" in err and "--metabase none" in err


def test_metafeatures_prints_every_name(csv_file, capsys):
    from metalab.automl import METAFEATURE_NAMES

    assert _main(["metafeatures", str(csv_file), "--target", "label"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(METAFEATURE_NAMES)


def test_build_then_export_a_metabase(keel_root, tmp_path, capsys):
    storage, export = tmp_path / "base.db", tmp_path / "base.json"
    assert _main(["build-metabase", "--storage", str(storage), "--keel-root", str(keel_root),
                  "--datasets", "iris", "--budget", "60", "--trials", "2"]) == 0
    assert _main(["export-metabase", "--storage", str(storage), "--out", str(export),
                  "--top", "3"]) == 0
    payload = json.loads(export.read_text())
    assert [d["name"] for d in payload["datasets"]] == ["iris"]
    assert 1 <= len(payload["datasets"][0]["configs"]) <= 3


def test_build_over_named_families_searches_only_those(keel_root, tmp_path):
    storage, export = tmp_path / "base.db", tmp_path / "base.json"
    assert _main(["build-metabase", "--storage", str(storage), "--keel-root", str(keel_root),
                  "--datasets", "iris", "--budget", "60", "--trials", "3",
                  "--families", "svm", "mlp"]) == 0
    assert _main(["export-metabase", "--storage", str(storage), "--out", str(export)]) == 0
    configs = json.loads(export.read_text())["datasets"][0]["configs"]
    assert configs and all(c["config"]["classifier"] in ("svm", "mlp") for c in configs)


def test_build_with_a_bad_budget_is_a_clean_error(tmp_path, keel_root, capsys):
    code = _main(["build-metabase", "--storage", str(tmp_path / "b.db"), "--keel-root",
                  str(keel_root), "--budget", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "budget must be a positive number (seconds of search per dataset), got 0.0" in err
    assert "budget is --budget" in err
