"""Property-based: values of wrong types and ranges for every TrainConfig field, every learner
config field and the ``metalab train``, ``eval`` and ``automl`` flags end in a MetalabError or
argparse's usage error, never another exception, and before any training starts or any data is
read."""

import contextlib
import dataclasses
import io
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metalab.algorithms import ALGORITHMS, learner_config
from metalab.checks import convert
from metalab.cli import main
from metalab.cli.train import _OPTIONS
from metalab.errors import MetalabError
from metalab.training.config import TrainConfig

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Anything a YAML file, a Python caller or a typo can hand over.
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**1100), 2**1100), st.floats(), st.text(max_size=6),
    st.sampled_from(["0", "-1", "1e-3", "nan", "inf", "true", "none", "10m", "cuda:x", ""]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# What a command line can hand over: text, numbers among it.
TEXT = st.one_of(
    st.text(max_size=8), st.integers(-(2**1100), 2**1100).map(str), st.floats().map(str),
    st.sampled_from(["0", "-1", "1.5", "1e-3", "nan", "inf", "true", "maybe", "none", "10m", "x=1", "=", "."]),
)
TRAIN_FIELDS = [f.name for f in dataclasses.fields(TrainConfig)]
LEARNER_FIELDS = [(name, f.name) for name, cls in sorted(ALGORITHMS.items()) for f in dataclasses.fields(cls.Config)]


@SETTINGS
@given(field=st.sampled_from(TRAIN_FIELDS), value=VALUES)
def test_any_value_of_any_training_option_is_accepted_or_a_metalab_error_naming_it(field, value):
    values = {field: value} if field in ("steps", "budget") else {"steps": 1, field: value}
    try:
        TrainConfig.from_dict(values)
    except MetalabError as error:
        if field not in ("learner", "preprocess", "steps", "budget"):  # those name the inner key
            assert field in error.fields and field in str(error)


@SETTINGS
@given(field=st.sampled_from(LEARNER_FIELDS), value=VALUES)
def test_any_value_of_any_learner_hyperparameter_is_accepted_or_a_metalab_error(field, value):
    algorithm, name = field
    try:
        learner_config(algorithm, {name: value})
    except MetalabError as error:
        assert error.fields and str(error)


@SETTINGS
@given(field=st.sampled_from(LEARNER_FIELDS), text=TEXT)
def test_any_text_for_any_learner_hyperparameter_is_read_by_its_type_or_a_metalab_error(field, text):
    algorithm, name = field
    try:
        value = convert(ALGORITHMS[algorithm].Config, name, text)
    except MetalabError as error:
        assert name in str(error)
    else:
        try:  # a value of the right type may still break a rule between fields (heads <= slots)
            learner_config(algorithm, {name: value})
        except MetalabError as error:
            assert name in str(error)


class _TrainingStarted(BaseException):
    """Raised instead of training: the input passed every check."""


def _run(argv):
    """``main(argv)`` in-process, training replaced: (outcome, stderr)."""
    err = io.StringIO()
    with mock.patch("metalab.training.loop.train", side_effect=_TrainingStarted), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        try:
            return main(argv), err.getvalue()
        except SystemExit as stop:
            return ("exit", stop.code), err.getvalue()
        except _TrainingStarted:
            return "trained", err.getvalue()


FLAGS = [flag for flag, *_ in _OPTIONS] + ["--config", "--set"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("bad_input")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.lists(st.tuples(st.sampled_from(FLAGS), TEXT), min_size=1, max_size=3),
       algorithm=st.sampled_from(sorted(ALGORITHMS)), key=st.sampled_from([n for _, n in LEARNER_FIELDS] + ["nosuch"]),
       resume=st.booleans())
def test_any_train_command_line_ends_in_one_error_line_a_usage_error_or_training(folder, flags, algorithm, key, resume):
    argv = ["train", "--algorithm", algorithm, "--out", str(folder / "run"), "--no-progress"]
    for flag, text in flags:
        argv += [flag, f"{key}={text}" if flag == "--set" else text]
    if not any(flag in ("--steps", "--budget") for flag, _ in flags):
        argv += ["--steps", "1"]
    argv += ["--resume"] * resume

    outcome, err = _run(argv)
    assert "Traceback" not in err and "internal error" not in err, err
    if outcome == "trained":
        assert not resume  # --resume with no run to continue never starts a training
    elif outcome == ("exit", 2):
        assert "error: argument" in err or "error: unrecognized" in err or "expected one argument" in err, err
    else:
        assert outcome == 2 and err.startswith("metalab: error: "), err
        assert 1 <= len(err.strip().splitlines()) <= 2  # the error, and the flag that sets the field

    with contextlib.suppress(SystemExit, _TrainingStarted):  # --debug lets the error itself through
        try:
            _run_debug(argv)
        except MetalabError:
            assert outcome == 2


def _run_debug(argv):
    with mock.patch("metalab.training.loop.train", side_effect=_TrainingStarted), \
            contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        main(["--debug", *argv])


EVAL_FLAGS = ["--ways", "--shots", "--queries", "--episodes", "--seed", "--batch", "--device", "--threads", "--split"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.lists(st.tuples(st.sampled_from(EVAL_FLAGS), TEXT), min_size=1, max_size=3))
def test_any_eval_command_line_ends_in_one_error_line_or_a_usage_error(folder, flags):
    argv = ["eval", str(folder / "no-run"), "--shots", "1"]
    for flag, text in flags:
        argv += [flag, text]
    outcome, err = _run(argv)
    assert "Traceback" not in err and "internal error" not in err, err
    assert outcome in (2, ("exit", 2)), err


class _Started(BaseException):
    """Raised instead of reading data, a base or a model: the input passed every check."""


# action -> (its required arguments, the flags drawn)
AUTOML = {
    "build-metabase": (["--storage", "b.db"], ["--budget", "--cv", "--trials", "--per-fit-limit", "--seed",
                                               "--workers"]),
    "export-metabase": (["--storage", "b.db", "--out", "x.json"], ["--top"]),
    "cross-evaluate": (["--metabase", "default", "--scores", "s.jsonl"],
                       ["--cv", "--seed", "--per-fit-limit", "--max-rows", "--per-group", "--add-per-group", "--shard"]),
    "fit": (["d.csv", "--target", "y", "--out", "m"], ["--budget", "--seed", "--max-rows"]),
    "predict": (["m.skops", "d.csv"], ["--max-rows"]),
}


@settings(max_examples=100, deadline=None)
@given(action=st.sampled_from(sorted(AUTOML)), data=st.data())
def test_any_automl_command_line_ends_in_one_error_line_a_usage_error_or_reading_its_input(action, data):
    required, drawn = AUTOML[action]
    argv = ["automl", action, *required]
    for flag, text in data.draw(st.lists(st.tuples(st.sampled_from(drawn), TEXT), min_size=1, max_size=3)):
        argv += [flag, text]
    err = io.StringIO()
    patches = [mock.patch(target, side_effect=_Started) for target in (
        "metalab.automl.datasets.load_csv", "metalab.automl.datasets.load_features_csv",
        "metalab.automl.datasets.load_keel_corpus", "metalab.automl.metabase.load_metabase",
        "metalab.automl.metabase.MetaBase.from_storage", "metalab.automl.saved.load_model")]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            outcome = main(argv)
        except SystemExit as stop:
            outcome = ("exit", stop.code)
        except _Started:
            outcome = "started"
    err = err.getvalue()
    assert "Traceback" not in err and "internal error" not in err, err
    if outcome == ("exit", 2):
        assert "error: argument" in err or "expected one argument" in err, err
    elif outcome != "started":
        assert outcome == 2 and err.startswith("metalab: error: "), err
        assert len(err.strip().splitlines()) == 2 and "on the command line, " in err  # the flag that sets it
