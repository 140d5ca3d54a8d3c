"""The ``metalab`` command end to end, in-process, on a small real Omniglot run."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from metalab.cli import main
from metalab.cli.demo import write_unseen_characters


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, data_dir):
    run = tmp_path_factory.mktemp("cli") / "run"
    code = main(["train", "--algorithm", "protonet", "--dataset", "omniglot", "--split", "vinyals",
                 "--data", str(data_dir), "--ways", "5", "--shots", "1", "--queries", "5", "--meta-batch", "4",
                 "--steps", "100", "--val-every", "50", "--val-episodes", "20", "--seed", "0",
                 "--out", str(run), "--no-progress"])
    assert code == 0
    return run


def test_eval_json_is_exactly_one_object_with_the_documented_keys(trained_run, data_dir, capsys):
    capsys.readouterr()
    assert main(["eval", str(trained_run), "--ways", "5", "--shots", "1", "--episodes", "40",
                 "--data", str(data_dir), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)
    assert out.strip().count("\n") == 0
    assert {"algorithm", "dataset", "split", "ways", "shots", "queries", "episodes", "accuracy", "ci95"} <= set(result)
    assert result["algorithm"] == "protonet" and result["split"] == "test" and result["episodes"] == 40
    assert result["accuracy"] > 70 and 0 < result["ci95"] < 5  # chance is 20%; 100 steps reach about 80


def test_eval_is_reproducible(trained_run, data_dir, capsys):
    runs = []
    for _ in range(2):
        capsys.readouterr()
        main(["eval", str(trained_run), "--ways", "5", "--shots", "1", "--episodes", "10", "--data", str(data_dir), "--json"])
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0] == runs[1]


def test_predict_names_support_folders_for_unseen_official_pngs(trained_run, data_dir, tmp_path, capsys):
    truth = write_unseen_characters(tmp_path, str(data_dir), ways=5, seed=1, queries=4)
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(trained_run / "best.pt"), "--support", str(tmp_path / "support"),
                 "--query", str(tmp_path / "query"), "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)
    assert sorted(p["query"] for p in predictions) == sorted(truth)
    classes = {p.name for p in (tmp_path / "support").iterdir()}
    assert all(p["predicted"] in classes and 0 < p["probability"] <= 1 for p in predictions)
    # 20 queries: chance gets 4 right; a model that beats 50% in eval misses 10 with probability < 2%
    assert sum(p["predicted"] == truth[p["query"]] for p in predictions) >= 10


def test_predict_input_matches_training_input(data_dir, tmp_path):
    """A PNG as the official zips hold it becomes exactly the array the model trains on."""
    from metalab.data.load import omniglot
    from metalab.data.omniglot import load_set
    from metalab.data.preprocess import Preprocess

    Image.fromarray(load_set("background", data_dir)[0, 3]).save(tmp_path / "x.png")
    from_png = Preprocess().image_file(tmp_path / "x.png")
    in_training = omniglot("vinyals", "train", data_dir).images[0 * 20 + 3]
    assert np.array_equal(from_png.numpy(), in_training.numpy())


def test_user_errors_print_one_line_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("METALAB_DATA", str(tmp_path))
    monkeypatch.setenv("METALAB_CACHE", str(tmp_path / "cache"))
    code = main(["train", "--steps", "1", "--out", str(tmp_path / "r"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("metalab: error: Omniglot not found") and "Traceback" not in err


def test_eval_of_a_foreign_checkpoint_is_an_error(tmp_path, capsys):
    import torch

    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    assert main(["eval", str(tmp_path / "x.pt"), "--ways", "5", "--shots", "1"]) == 2
    assert "not a metalab checkpoint" in capsys.readouterr().err


def test_predict_with_a_missing_query_folder(trained_run, tmp_path, capsys, data_dir):
    write_unseen_characters(tmp_path, str(data_dir), ways=2)
    assert main(["predict", "--checkpoint", str(trained_run), "--support", str(tmp_path / "support"),
                 "--query", str(tmp_path / "nope")]) == 2
    assert "query folder" in capsys.readouterr().err


def test_demo_trains_a_model_that_beats_chance_by_a_wide_margin_and_predicts(tmp_path, data_dir, capsys):
    """The README's main job, with a tiny budget: even 15 seconds of meta-training (about a
    dozen updates on a shared core) give at least three times chance in every setting."""
    assert main(["demo", "--out", str(tmp_path / "demo"), "--budget", "15s", "--episodes", "20",
                 "--data", str(data_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    accuracy = {(int(w), int(s)): float(a) for w, s, a in re.findall(r"(\d+)-way (\d+)-shot:\s+([\d.]+)%", out)}
    assert set(accuracy) == {(5, 1), (5, 5), (20, 1), (20, 5)}
    for (ways, _), value in accuracy.items():
        assert value > 3 * 100 / ways, (ways, value)
    assert out.count("(Snell et al. 2017, Table 1)") == 4 and "query_5.png" in out  # each setting cites its table
    assert (tmp_path / "demo" / "best.pt").is_file() and (tmp_path / "demo" / "curve.png").is_file()


def test_a_config_error_names_the_field_and_the_flag_that_sets_it(trained_run, capsys):
    assert main(["train", "--algorithm", "protonet", "--ways", "5", "--shots", "1", "--steps", "2",
                 "--out", str(trained_run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "resume it (resume) or choose another run folder (out)" in err
    assert "on the command line, resume is --resume; out is --out" in err and "Traceback" not in err
    assert main(["train", "--algorithm", "maml", "--set", "inner_lr=-1", "--steps", "1",
                 "--out", str(trained_run.parent / "x"), "--no-progress"]) == 2
    assert "inner_lr is --set inner_lr=VALUE" in capsys.readouterr().err


def test_runtime_options_are_flags_not_hyperparameters(tmp_path, capsys):
    assert main(["train", "--algorithm", "maml", "--dataset", "sinusoid", "--set", "vmap=true", "--steps", "1",
                 "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    assert "runtime options" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--vmap", "maybe"])
