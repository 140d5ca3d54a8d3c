"""Size limits: a CSV of millions of rows is refused before it is read whole, and an
AutoClassifier whose data is too large for its budget searches on a sample and says so."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

from metalab.automl import AutoClassifier, load_csv, load_keel
from metalab.automl import datasets as datasets_module
from metalab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def two_million_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with open(path, "w") as handle:
        handle.write("a,label\n")
        handle.write("1,0\n2,1\n" * 1_000_000)
    return path


def test_a_csv_of_millions_of_rows_is_refused_with_the_limit_and_the_fix(two_million_rows):
    start = time.monotonic()
    with pytest.raises(DataError, match=r"more than 1,000,000 rows.*--max-rows.*sample"):
        load_csv(two_million_rows, "label")
    assert time.monotonic() - start < 30
    assert load_csv(two_million_rows, "label", max_rows=2_000_000).shape == (2_000_000, 1)


def test_a_file_over_the_byte_limit_is_refused_without_being_read(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    path.write_text("a,label\n" + "1.5,0\n" * 1000)

    def never(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(datasets_module.pd, "read_csv", never)
    with pytest.raises(DataError, match=r"MiB metalab reads into memory; pass a sample"):
        datasets_module._read_table(path, header=0, na_values=(), max_bytes=1000)


def test_cli_fit_refuses_a_huge_csv_cleanly(two_million_rows, tmp_path, capsys):
    from metalab.cli import main

    assert main(["automl", "fit", str(two_million_rows), "--target", "label",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "metalab: error:" in err and "more than 1,000,000 rows" in err
    assert not (tmp_path / "run").exists()
    assert main(["automl", "predict", str(tmp_path), str(two_million_rows), "--max-rows", "0"]) == 2
    err = capsys.readouterr().err
    assert "max_rows must be an integer >= 1, got 0" in err and "max_rows is --max-rows" in err


def test_too_large_for_the_budget_searches_on_a_stratified_sample_and_says_so(keel_root):
    data = load_keel("texture", keel_root)  # 5500 rows x 40 columns, 11 classes
    model = AutoClassifier(time_budget=2, metabase=None, n_trials=1, families=["logreg"])
    with pytest.warns(UserWarning, match=r"5,500 rows, more than the search can use in "
                                         r"time_budget=2 s.*sample of 2,\d{3} rows"):
        model.fit(data.X, data.y)
    assert 2400 <= model.search_rows_ <= 2500  # 50,000 cells per second / 40 columns
    assert model.predict(data.X).shape == (5500,)
    assert set(np.unique(model.predict(data.X))) <= set(np.unique(data.y))


def test_small_data_or_max_search_rows_none_uses_every_row(mixed_frame):
    X, y = mixed_frame
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no subsampling warning
        model = AutoClassifier(time_budget=5, metabase=None, n_trials=1, families=["logreg"],
                               max_search_rows=None).fit(X, y)
    assert model.search_rows_ == len(y)
    with pytest.raises(ConfigError, match="max_search_rows must be"):
        AutoClassifier(max_search_rows="all").fit(X, y)
    with pytest.warns(UserWarning, match="sample of 5\\d rows"):
        model = AutoClassifier(time_budget=5, metabase=None, n_trials=1, families=["logreg"],
                               max_search_rows=50).fit(X, y)
    assert model.search_rows_ < len(y)
    assert len(pd.Series(model.predict(X)).unique()) >= 1
