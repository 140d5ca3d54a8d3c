"""Loaders: KEEL in place, CSV with a named target, OpenML through a stand-in module."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from metalab.automl.datasets import (
    KEEL_ENV,
    keel_manifest,
    load_csv,
    load_keel,
    load_keel_corpus,
    load_openml,
)
from metalab.errors import DataError


def test_keel_text_columns_are_categorical(keel_root):
    breast = load_keel("breast", keel_root)
    assert breast.X.shape == (277, 9)
    assert breast.group == "breast"
    assert breast.X["x0"].dtype == object and breast.X["x0"].iloc[0] == "40-49"
    assert set(breast.y) == {"no-recurrence-events", "recurrence-events"}


def test_keel_null_marker_is_missing_and_spaces_are_stripped(keel_root):
    cleveland = load_keel("cleveland-0_vs_4", keel_root)
    assert cleveland.X.isna().to_numpy().sum() == 4
    assert all(dtype == np.float64 for dtype in cleveland.X.dtypes)
    flare = load_keel("flare-F", keel_root)  # "A, X, 1, ..." with a space after each comma
    assert flare.X["x1"].iloc[0] == "X"
    assert set(flare.y) == {"negative", "positive"}


def test_keel_shapes_match_the_manifest(keel_root):
    entries = {e["name"]: e for e in keel_manifest(keel_root)}
    for dataset in load_keel_corpus(keel_root, names=["iris", "zoo-3", "haberman"]):
        entry = entries[dataset.name]
        assert dataset.X.shape == (entry["rows"], entry["features"])
        assert len(np.unique(dataset.y)) == entry["classes"]


def test_keel_folder_comes_from_the_environment(keel_root, monkeypatch):
    monkeypatch.setenv(KEEL_ENV, str(keel_root))
    assert load_keel("iris").X.shape == (150, 4)
    monkeypatch.delenv(KEEL_ENV)
    with pytest.raises(DataError, match="no KEEL folder given"):
        load_keel("iris")


def test_unknown_keel_dataset_is_a_clear_error(keel_root):
    with pytest.raises(DataError, match="no KEEL dataset named 'irls'"):
        load_keel("irls", keel_root)


def test_csv_with_named_target(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,colour,label\n1.5,red,x\n,blue,y\n3,NA,x\n4,red,y\n")
    data = load_csv(path, "label")
    assert list(data.X.columns) == ["a", "colour"]
    assert data.X["a"].isna().sum() == 1 and data.X["colour"].isna().sum() == 1
    assert data.X["colour"].dtype == object
    assert list(data.y) == ["x", "y", "x", "y"]


def test_csv_missing_target_column_names_the_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError, match="target column 'label' is not in d.csv; its columns are 'a', 'b'"):
        load_csv(path, "label")


def test_csv_text_in_a_numeric_column_is_a_clear_error(tmp_path):
    path = tmp_path / "d.csv"
    rows = "\n".join(f"{i},{i % 2}" for i in range(20))
    path.write_text("a,label\n" + rows + "\n1O,0\n")  # letter O typed for a zero
    with pytest.raises(DataError, match=r"column 'a' is numeric but holds text .*\['1O'\]"):
        load_csv(path, "label")
    assert load_csv(path, "label", na_values=["1O"]).X["a"].isna().sum() == 1


def test_csv_that_cannot_be_parsed_is_a_clear_error(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,label\n1,2,x\n1,2,3,4,5\n")
    with pytest.raises(DataError, match="cannot parse .* as comma-separated text"):
        load_csv(ragged, "label")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,label\n\xff\xfe\x00,1\n")
    with pytest.raises(DataError, match="cannot parse"):
        load_csv(binary, "label")
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "absent.csv", "label")


def test_openml_loader_reads_through_the_openml_package(monkeypatch, tmp_path):
    """The openml package is replaced by a stand-in serving a local file: no network."""
    local = tmp_path / "local.csv"
    local.write_text("f1,f2,class\n1,a,p\n2,b,q\n3,a,p\n4,b,q\n")

    class _Dataset:
        name = "local-61"
        default_target_attribute = "class"

        def get_data(self, target, dataset_format):
            table = pd.read_csv(local)
            return table.drop(columns=[target]), table[target], None, None

    fake = types.ModuleType("openml")
    fake.datasets = types.SimpleNamespace(get_dataset=lambda data_id: _Dataset())
    monkeypatch.setitem(sys.modules, "openml", fake)
    data = load_openml(61)
    assert data.name == "local-61" and data.X.shape == (4, 2)
    assert data.X["f2"].dtype == object
    assert list(data.y) == ["p", "q", "p", "q"]


def test_openml_missing_package_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "openml", None)
    with pytest.raises(DataError, match="pip install openml"):
        load_openml(61)
