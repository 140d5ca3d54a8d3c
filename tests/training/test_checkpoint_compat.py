"""Checkpoints written before task families became plug-ins (format version 1) still load and
give the numbers they gave then, on the same fixed tasks."""

import json
from pathlib import Path

import pytest

from metalab.cli import main
from metalab.training.checkpoint import VERSION, load_checkpoint, load_learner, upgrade
from metalab.training.config import TrainConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints_v1"
EXPECTED = {(r["algorithm"], r["dataset"]): r for r in map(json.loads, (FIXTURES / "expected_eval.jsonl").open())}


@pytest.mark.parametrize("file, key", [("metasgd_sin.pt", ("metasgd", "sinusoid")),
                                       ("protonet.pt", ("protonet", "omniglot")),
                                       ("metasgd_omniglot.pt", ("metasgd", "omniglot"))])
def test_a_version_1_checkpoint_evaluates_to_its_recorded_figure(file, key, data_dir, capsys):
    expected = EXPECTED[key]
    args = ["eval", str(FIXTURES / file), "--shots", str(expected["shots"]), "--episodes", str(expected["episodes"]),
            "--data", str(data_dir), "--json", "--threads", "2"]
    if "ways" in expected:
        args += ["--ways", str(expected["ways"])]
    capsys.readouterr()
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    metric = "accuracy" if "accuracy" in expected else "mse"
    assert set(expected) <= set(result)  # the keys eval --json had then are kept
    assert round(result[metric], 4) == round(expected[metric], 4) and round(result["ci95"], 3) == round(expected["ci95"], 3)


def test_version_1_learner_configs_are_upgraded():
    state = load_checkpoint(FIXTURES / "metasgd_sin.pt")
    assert state["version"] == VERSION and state["learner_config"]["loss"] == "mse"
    assert "vmap" not in state["learner_config"] and "workers" not in state["learner_config"]
    learner, _, state = load_learner(FIXTURES / "metasgd_omniglot.pt")
    assert learner.config.loss == "cross_entropy"
    assert any(k.startswith("model.body.") for k in state["model"]) and not any(
        k.startswith("model.features.") for k in state["model"])


def test_a_version_2_run_resumes_with_the_learner_it_ran_with_not_todays_defaults():
    ran = TrainConfig(algorithm="maml", dataset="omniglot", steps=1, learner={"learned_lrs": False})
    stored = ran.to_dict()
    stored["learner"] = {}  # version 2 stored only the options a run stated
    state = {"version": 2, "algorithm": "maml", "config": stored,
             "learner_config": {"learned_lrs": False, "inner_lr": 0.4}}
    upgraded = upgrade(state)
    assert upgraded["version"] == VERSION and upgraded["config"]["learner"] == {"learned_lrs": False}
    assert TrainConfig.from_dict(upgraded["config"]) == ran


def test_a_version_3_meta_sgd_run_keeps_the_rates_starting_value_it_ran_with():
    ran = TrainConfig(algorithm="metasgd", dataset="omniglot", steps=1, learner={"inner_lr": 0.4})
    stored = ran.to_dict()
    stored["learner"] = {}  # version 3 had no measured Meta-SGD hyperparameter to store
    state = {"version": 3, "algorithm": "metasgd", "config": stored, "learner_config": {"inner_lr": 0.4}}
    upgraded = upgrade(state)
    assert upgraded["version"] == VERSION and upgraded["config"]["learner"] == {"inner_lr": 0.4}
    assert TrainConfig.from_dict(upgraded["config"]) == ran
    assert TrainConfig.from_dict(stored).learner != {"inner_lr": 0.4}  # without the upgrade: today's default


def test_a_version_4_first_order_maml_run_keeps_the_evaluation_steps_it_ran_with():
    ran = TrainConfig(algorithm="fomaml", dataset="omniglot", steps=1,
                      learner={"learned_lrs": True, "inner_steps": 3, "eval_inner_steps": 10})
    stored = ran.to_dict()
    stored["learner"] = {"learned_lrs": True, "inner_steps": 3}  # version 4 stored its measured values then
    state = {"version": 4, "algorithm": "fomaml", "config": stored,
             "learner_config": {"learned_lrs": True, "inner_steps": 3, "eval_inner_steps": 10}}
    upgraded = upgrade(state)
    assert upgraded["version"] == VERSION and upgraded["config"]["learner"]["eval_inner_steps"] == 10
    assert TrainConfig.from_dict(upgraded["config"]) == ran
    assert TrainConfig.from_dict(stored).learner["eval_inner_steps"] == 20  # without the upgrade: today's default
