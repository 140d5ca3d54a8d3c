"""Each class of bad input the README's "Bad input" section lists: one ``metalab: error:`` line
naming the field, the value and the fix, exit code 2, no traceback, nothing trained."""

from unittest import mock

import pytest

from metalab.cli import main
from metalab.errors import ConfigError


@pytest.fixture
def no_training():
    """Training must not start: every one of these is refused before."""
    with mock.patch("metalab.training.loop.train", side_effect=AssertionError("training started")) as train:
        yield train


def _error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("metalab: error: ") and "Traceback" not in err, err
    return err


def _train(tmp_path, *extra):
    return ["train", "--steps", "1", "--out", str(tmp_path / "run"), "--no-progress", *extra]


@pytest.mark.parametrize(("extra", "message", "hint"), [
    (["--algorithm", "protnet"], "algorithm must be one of [", "got 'protnet'; did you mean 'protonet'?"),
    (["--algorithm", "maml", "--set", "inner_lr=abc"], "inner_lr must be a positive number, got 'abc'",
     "inner_lr is --set inner_lr=VALUE"),
    (["--algorithm", "maml", "--set", "inner_steps=0"], "inner_steps must be an integer >= 1, got 0",
     "inner_steps is --set inner_steps=VALUE"),
    (["--set", "hiden=8"], "protonet has no hyperparameter(s) ['hiden']; known: ['backbone', 'chunk', 'hidden',",
     ""),
    (["--set", "hidden"], "--set takes KEY=VALUE", ""),
    (["--lr", "0"], "lr must be a positive number or None (None: the learner's measured default", "lr is --lr"),
    (["--ways", "1"], "ways must be an integer >= 2, got 1", "ways is --ways"),
    (["--device", "gpu"], "device must be auto, cpu, cuda or cuda:N, got 'gpu'", "device is --device"),
    (["--schedule", "linear"], "schedule must be one of ['constant', 'cosine', 'step'], got 'linear'",
     "schedule is --schedule"),
    (["--budget", "10m"], "give exactly one of steps (a number of meta-updates) and budget", "steps is --steps"),
])
def test_a_bad_training_value_names_the_field_the_value_and_the_flag(tmp_path, capsys, no_training, extra, message, hint):
    err = _error(capsys, _train(tmp_path, *extra))
    assert message in err and hint in err


def test_an_unknown_dataset_names_the_known_ones_before_anything_is_loaded(tmp_path, capsys, no_training):
    err = _error(capsys, _train(tmp_path, "--dataset", "omniglott"))
    from metalab.tasks.registry import FAMILIES

    assert f"unknown dataset 'omniglott': expected one of {sorted(FAMILIES)}"[:-1] in err
    assert "did you mean 'omniglot'?" in err and "dataset is --dataset" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("dataset", "message"), [
    ("folder", "dataset folder reads a file or folder: write it as folder:PATH"),
    ("functions", "dataset functions reads a file or folder: write it as functions:PATH"),
    ("folder:{tmp}/absent", "{tmp}/absent does not exist; give the path of an existing folder with one sub-folder"),
    ("functions:{tmp}/absent.csv", "{tmp}/absent.csv does not exist; give the path of an existing file"),
])
def test_a_dataset_without_its_location_is_refused_where_it_enters(tmp_path, capsys, no_training, dataset, message):
    err = _error(capsys, _train(tmp_path, "--dataset", dataset.format(tmp=tmp_path)))
    assert message.format(tmp=tmp_path) in err and "dataset is --dataset" in err


def test_an_unknown_split_names_the_known_ones_before_anything_is_loaded(tmp_path, capsys, no_training):
    err = _error(capsys, _train(tmp_path, "--split", "lak"))
    assert "split must be one of ['lake', 'vinyals'] (the Omniglot split), got 'lak'; did you mean 'lake'?" in err
    assert "split is --split" in err
    (tmp_path / "c.yaml").write_text("split: vinyal\n")
    assert "got 'vinyal'; did you mean 'vinyals'?" in _error(capsys, _train(tmp_path, "--config", str(tmp_path / "c.yaml")))


def test_an_unknown_eval_part_is_a_usage_error_naming_the_parts(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["eval", str(tmp_path / "no-run"), "--shots", "1", "--split", "valid"])
    assert stop.value.code == 2
    assert "argument --split: invalid choice: 'valid' (choose from" in capsys.readouterr().err


def test_a_value_of_the_wrong_type_for_a_flag_is_a_usage_error(tmp_path, capsys, no_training):
    for extra, message in ((["--ways", "five"], "argument --ways: invalid int value: 'five'"),
                           (["--budget", "10x"], "argument --budget: cannot read the duration '10x'"),
                           (["--vmap", "maybe"], "argument --vmap: expected true or false, got 'maybe'")):
        with pytest.raises(SystemExit) as stop:
            main(_train(tmp_path, *extra))
        assert stop.value.code == 2 and message in capsys.readouterr().err


def test_an_existing_file_as_the_run_folder_is_refused(tmp_path, capsys, no_training):
    (tmp_path / "run").write_text("not a folder")
    err = _error(capsys, _train(tmp_path))
    assert f"the run folder {tmp_path / 'run'} cannot be made: {tmp_path / 'run'} is a file" in err
    assert "on the command line, out is --out" in err
    (tmp_path / "run").unlink()
    (tmp_path / "file").write_text("")
    assert "is a file" in _error(capsys, ["train", "--steps", "1", "--out", str(tmp_path / "file" / "run")])


def test_resume_without_a_run_says_so_and_starts_nothing(tmp_path, capsys, no_training):
    err = _error(capsys, ["train", "--out", str(tmp_path / "x"), "--resume", "--no-progress"])
    assert f"nothing to resume: {tmp_path / 'x' / 'last.pt'} does not exist" in err
    assert "on the command line, resume is --resume; out is --out" in err
    assert not (tmp_path / "x").exists() and not no_training.called


@pytest.mark.parametrize(("text", "message"), [
    (None, "does not exist"),
    ("ways: [unclosed", "is not valid YAML"),
    ("- a list", "must hold a mapping of option: value"),
    ("wayz: 5", "unknown training option(s) ['wayz']; known: ['algorithm',"),
    ("lr: fast", "lr must be a positive number or None (None: the learner's measured default, metalab.training.defaults), got 'fast'"),
    ("learner: {hidden: -1}", "hidden must be an integer >= 1, got -1"),
    ("preprocess: {size: 2}", "preprocess.size must be an integer in [4, 1024], got 2"),
])
def test_a_bad_config_file_names_the_file_or_the_option(tmp_path, capsys, no_training, text, message):
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    assert message in _error(capsys, _train(tmp_path, "--config", str(path)))


def test_a_folder_as_the_config_file_is_refused(tmp_path, capsys, no_training):
    assert f"cannot read the config file {tmp_path}" in _error(capsys, _train(tmp_path, "--config", str(tmp_path)))


def test_a_bad_evaluation_value_is_refused_before_the_checkpoint_is_read(tmp_path, capsys):
    err = _error(capsys, ["eval", str(tmp_path / "no-run"), "--shots", "1", "--batch", "0"])
    assert "batch must be an integer >= 1, got 0" in err and "batch is --batch" in err


def test_a_missing_metabase_file_is_named_with_the_fix(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,y\n1,0\n2,1\n")
    err = _error(capsys, ["automl", "fit", str(tmp_path / "d.csv"), "--target", "y", "--out", str(tmp_path / "m"),
                          "--metabase", str(tmp_path / "missing.db")])
    assert f"no such metabase file: '{tmp_path / 'missing.db'}'" in err
    assert "--metabase default" in err and "--metabase none" in err and "metabase is --metabase" in err
    assert "sqlalchemy" not in err.lower()


def test_debug_flag_and_environment_show_the_traceback(tmp_path, capsys, monkeypatch, no_training):
    for argv in (["--debug", *_train(tmp_path, "--lr", "0")], [*_train(tmp_path, "--lr", "0"), "--debug"]):
        with pytest.raises(ConfigError, match="lr must be a positive number"):
            main(argv)
    monkeypatch.setenv("METALAB_DEBUG", "1")
    with pytest.raises(ConfigError, match="lr must be a positive number"):
        main(_train(tmp_path, "--lr", "0"))


def test_an_unexpected_exception_is_reported_as_a_bug_with_how_to_see_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("metalab.training.loop.train", mock.Mock(side_effect=TypeError("boom")))
    assert main(_train(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("metalab: internal error: TypeError: boom") and "Traceback" not in err
    assert "rerun with --debug (or METALAB_DEBUG=1)" in err


def test_resume_that_changes_a_stored_setting_is_refused(tmp_path, capsys):
    run = str(tmp_path / "run")
    assert main(["train", "--algorithm", "maml", "--dataset", "sinusoid", "--steps", "1", "--val-every", "1",
                 "--val-episodes", "1", "--out", run, "--no-progress"]) == 0
    capsys.readouterr()
    with mock.patch("metalab.training.loop.train", side_effect=AssertionError("training started")):
        err = _error(capsys, ["train", "--out", run, "--resume", "--lr", "0.5", "--no-progress"])
    assert f"--resume continues {run} with its stored configuration; it cannot change ['--lr']" in err


def test_resume_of_a_copied_run_writes_to_the_folder_named_not_the_original(tmp_path, capsys):
    import shutil

    first, copy = tmp_path / "run", tmp_path / "copy"
    assert main(["train", "--algorithm", "maml", "--dataset", "sinusoid", "--steps", "1", "--val-every", "1",
                 "--val-episodes", "1", "--out", str(first), "--no-progress"]) == 0
    shutil.copytree(first, copy)
    with mock.patch("metalab.training.loop.train", side_effect=lambda config, **kw: config) as train:
        main(["train", "--out", str(copy), "--resume", "--no-progress"])
    assert train.call_args.args[0].out == str(copy)


def test_resume_keeps_a_stored_checkpoint_every_and_may_change_it(tmp_path):
    run = str(tmp_path / "run")
    assert main(["train", "--algorithm", "maml", "--dataset", "sinusoid", "--steps", "1", "--val-every", "1",
                 "--val-episodes", "1", "--checkpoint-every", "5", "--out", run, "--no-progress"]) == 0
    with mock.patch("metalab.training.loop.train", side_effect=lambda config, **kw: config) as train:
        main(["train", "--out", run, "--resume", "--no-progress"])
        main(["train", "--out", run, "--resume", "--checkpoint-every", "2", "--no-progress"])
    assert [call.args[0].checkpoint_every for call in train.call_args_list] == [5, 2]


def test_an_image_folder_over_a_size_limit_is_one_error_line_naming_the_file_and_the_variable(tmp_path, capsys,
                                                                                               monkeypatch):
    import numpy as np
    from PIL import Image

    for c in range(2):
        (tmp_path / "d" / f"c{c}").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((20, 20), 40 * i, np.uint8)).save(tmp_path / "d" / f"c{c}" / f"{i}.png")
    Image.fromarray(np.zeros((64, 50), np.uint8)).save(tmp_path / "d" / "c1" / "huge.png")
    monkeypatch.setenv("METALAB_MAX_IMAGE_PIXELS", "1000")
    err = _error(capsys, _train(tmp_path, "--dataset", str(tmp_path / "d"), "--ways", "2", "--shots", "1",
                                "--queries", "1"))
    assert f"image {tmp_path / 'd' / 'c1' / 'huge.png'} is 50 x 64 = 3,200 pixels, more than the 1,000" in err
    assert "METALAB_MAX_IMAGE_PIXELS=3200" in err
    monkeypatch.setenv("METALAB_MAX_IMAGE_PIXELS", "5000")
    monkeypatch.setenv("METALAB_MAX_FOLDER_BYTES", "20000")  # 7 images x 28 x 28 x 4 = 21,952 bytes
    err = _error(capsys, _train(tmp_path, "--dataset", str(tmp_path / "d"), "--ways", "2", "--shots", "1",
                                "--queries", "1"))
    assert f"image folder {tmp_path / 'd'} holds 7 images" in err and "METALAB_MAX_FOLDER_BYTES=21952" in err


@pytest.fixture
def nothing_read():
    """No data, base or model may be read: every one of these is refused before."""
    stop = AssertionError("data read")
    with mock.patch("metalab.automl.datasets.load_csv", side_effect=stop), \
            mock.patch("metalab.automl.datasets.load_features_csv", side_effect=stop), \
            mock.patch("metalab.automl.datasets.load_keel_corpus", side_effect=stop), \
            mock.patch("metalab.automl.metabase.load_metabase", side_effect=stop), \
            mock.patch("metalab.automl.metabase.MetaBase.from_storage", side_effect=stop), \
            mock.patch("metalab.automl.saved.load_model", side_effect=stop):
        yield


_BUILD = ["automl", "build-metabase", "--storage", "b.db"]
_CROSS = ["automl", "cross-evaluate", "--metabase", "default", "--scores", "s.jsonl"]


@pytest.mark.parametrize(("argv", "message", "hint"), [
    ([*_BUILD, "--budget", "0"], "budget must be a positive number (seconds of search per dataset), got 0.0",
     "budget is --budget"),
    ([*_BUILD, "--budget", "nan"], "budget must be a positive number (seconds of search per dataset), got nan",
     "budget is --budget"),
    ([*_BUILD, "--workers", "0"], "workers must be an integer >= 1, got 0", "workers is --workers"),
    ([*_BUILD, "--cv", "1"], "cv must be an integer >= 2, got 1", "cv is --cv"),
    ([*_BUILD, "--trials", "0"], "trials must be an integer >= 1 or None, got 0", "trials is --trials"),
    ([*_BUILD, "--per-fit-limit", "-1"], "per_fit_limit must be a positive number or None (seconds per fold fit)",
     "per_fit_limit is --per-fit-limit"),
    ([*_BUILD, "--seed", str(2**32)], "seed must be an integer in [0, 4294967295], got 4294967296", "seed is --seed"),
    ([*_BUILD, "--csv", "a.csv"], "csv needs target, the name of the class column", "csv is --csv; target is --target"),
    (["automl", "export-metabase", "--storage", "b.db", "--out", "x.json", "--top", "0"],
     "top must be an integer >= 1 (configurations kept per dataset), got 0", "top is --top"),
    ([*_CROSS, "--shard", "2/2"], "shard must be K/N with 0 <= K < N, got '2/2'", "shard is --shard"),
    ([*_CROSS, "--shard", "one"], "shard must be K/N with 0 <= K < N or None, got 'one'", "shard is --shard"),
    ([*_CROSS, "--per-group", "0"], "per_group must be an integer >= 1 (candidates per group), got 0",
     "per_group is --per-group"),
    ([*_CROSS, "--max-rows", "1"], "max_rows must be an integer >= 2, got 1", "max_rows is --max-rows"),
    (["automl", "fit", "d.csv", "--target", "y", "--out", "m", "--budget", "-5"],
     "budget must be a positive number (seconds for the whole fit), got -5.0", "budget is --budget"),
    (["automl", "fit", "d.csv", "--target", "y", "--out", "m", "--max-rows", "0"],
     "max_rows must be an integer >= 1, got 0", "max_rows is --max-rows"),
    (["automl", "predict", "m.skops", "d.csv", "--max-rows", "0"], "max_rows must be an integer >= 1, got 0",
     "max_rows is --max-rows"),
])
def test_a_bad_automl_number_names_the_field_the_value_and_the_flag_before_anything_is_read(
        capsys, nothing_read, argv, message, hint):
    err = _error(capsys, argv)
    assert message in err and f"metalab: on the command line, {hint}" in err


def test_an_unreachable_metabase_for_automl_fit_names_the_flag_that_gives_a_cold_start(tmp_path, capsys):
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(40))
    (tmp_path / "d.csv").write_text("a,b,y\n" + rows + "\n")
    err = _error(capsys, ["automl", "fit", str(tmp_path / "d.csv"), "--target", "y", "--out", str(tmp_path / "m"),
                          "--metabase", "mysql+nodriver://user@127.0.0.1:1/base", "--budget", "5"])
    assert "cannot open the metabase at mysql+nodriver://" in err
    assert "metalab automl fit --metabase none" in err and "metabase is --metabase" in err
    assert not (tmp_path / "m").exists()
