"""Saved AutoML models: a skops file that loads without running code, refuses foreign types,
and ``metalab automl predict`` on a real KEEL dataset with checked columns."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metalab.automl import AutoClassifier, load_keel
from metalab.automl.saved import align_columns, load_model, save_model
from metalab.errors import DataError, ModelFileError


class Payload:
    """A foreign class whose construction would leave a marker file behind."""

    marker = ""

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).write_text("ran")


def _main(argv: list[str]) -> int:
    from metalab.cli import main

    try:
        return main(["automl", *argv])
    except SystemExit as exit_:
        return int(exit_.code)


@pytest.fixture(scope="module")
def fitted(keel_root):
    data = load_keel("iris", keel_root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoClassifier(time_budget=20, metabase=None, n_trials=2, ensemble_size=3)
        model.fit(data.X, data.y)
    return model, data


def test_a_saved_model_loads_back_and_predicts_the_same(fitted, tmp_path):
    model, data = fitted
    path = save_model(model, tmp_path / "model.skops")
    again = load_model(tmp_path)  # a run folder means its model.skops
    assert isinstance(again, AutoClassifier)
    np.testing.assert_array_equal(again.predict_proba(data.X), model.predict_proba(data.X))
    assert path.read_bytes()[:2] == b"PK"  # a zip of JSON and arrays, not a pickle


def test_a_model_file_with_a_foreign_class_is_refused_and_nothing_runs(tmp_path):
    import skops.io as sio

    marker = tmp_path / "ran.txt"
    payload = Payload()
    payload.marker = str(marker)
    model = AutoClassifier()
    model.payload_ = payload
    sio.dump(model, tmp_path / "model.skops")
    with pytest.raises(ModelFileError, match=r"not metalab's.*test_saved_model\.Payload"):
        load_model(tmp_path / "model.skops")
    assert not marker.exists()


def test_a_model_file_holding_a_function_is_refused_even_from_a_trusted_package(tmp_path):
    import skops.io as sio

    model = AutoClassifier()
    model.hook_ = os.system
    model.loader_ = np.load  # a numpy function: only numpy's classes are trusted
    sio.dump(model, tmp_path / "model.skops")
    with pytest.raises(ModelFileError, match=r"system.*numpy.*load|numpy.*load.*system"):
        load_model(tmp_path / "model.skops")


def test_a_missing_or_foreign_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="no model file at"):
        load_model(tmp_path / "absent.skops")
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04not a zip")
    with pytest.raises(ModelFileError, match="not a metalab model file"):
        load_model(tmp_path / "model.pkl")


def test_columns_are_matched_by_name_extra_ones_dropped_with_a_warning():
    frame = pd.DataFrame({"b": [1.0], "extra": [2.0], "a": [3.0]})
    with pytest.warns(UserWarning, match=r"not fitted on: \['extra'\]"):
        aligned = align_columns(frame, ["a", "b"])
    assert list(aligned.columns) == ["a", "b"] and aligned.iloc[0].tolist() == [3.0, 1.0]
    with pytest.raises(DataError, match=r"lacks 1 column\(s\).*\['c'\]"):
        align_columns(frame, ["a", "c"])


@pytest.fixture(scope="module")
def breast_run(keel_root, tmp_path_factory):
    """KEEL's breast (categorical columns) as a CSV, fitted through the command line."""
    folder = tmp_path_factory.mktemp("breast")
    data = load_keel("breast", keel_root)
    table = data.X.assign(label=data.y)
    table.to_csv(folder / "breast.csv", index=False)
    code = _main(["fit", str(folder / "breast.csv"), "--target", "label", "--budget", "4",
                  "--metabase", "none", "--out", str(folder / "run"), "--families", "logreg"])
    assert code == 0
    return folder, table


def test_cli_predict_on_keel_writes_one_prediction_per_row_better_than_the_prior(breast_run, capsys):
    folder, table = breast_run
    code = _main(["predict", str(folder / "run" / "model.skops"), str(folder / "breast.csv"),
                  "--out", str(folder / "pred.csv"), "--proba"])
    assert code == 0
    # the target column was not seen as a feature at fit: ignored, with a warning naming it
    assert "ignoring 1 column(s)" in capsys.readouterr().err
    predicted = pd.read_csv(folder / "pred.csv")
    assert len(predicted) == len(table)
    classes = sorted(set(table["label"]))
    assert list(predicted.columns) == ["prediction"] + [f"proba:{c}" for c in classes]
    np.testing.assert_allclose(predicted.filter(like="proba:").sum(axis=1), 1.0, atol=1e-6)
    majority = table["label"].value_counts(normalize=True).max()
    assert (predicted["prediction"] == table["label"]).mean() > majority


def test_cli_predict_handles_reordered_columns_and_unseen_categories(breast_run, capsys):
    folder, table = breast_run
    shuffled = table.drop(columns=["label"]).iloc[:, ::-1].copy()
    shuffled.iloc[:5, 0] = "never-seen-at-fit"  # a category the encoders did not see
    shuffled.to_csv(folder / "new.csv", index=False)
    code = _main(["predict", str(folder / "run"), str(folder / "new.csv")])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "prediction" and len(lines) == len(table) + 1
    assert set(lines[1:]) <= set(map(str, table["label"]))


def test_cli_predict_names_a_missing_column(breast_run, capsys):
    folder, table = breast_run
    table.drop(columns=["x3", "label"]).to_csv(folder / "partial.csv", index=False)
    code = _main(["predict", str(folder / "run"), str(folder / "partial.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "metalab: error:" in err and "['x3']" in err and "Traceback" not in err
