"""``metalab eval RUN --set KEY=VALUE``: test-time hyperparameters of a run's learner."""

import json

import pytest
import torch

from metalab.cli import main
from metalab.errors import CheckpointError, ConfigError
from metalab.training.checkpoint import load_learner
from metalab.training.config import TrainConfig
from metalab.training.loop import train


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_set") / "run"
    torch.set_num_threads(1)
    train(TrainConfig(algorithm="maml-rl", dataset="navigation2d", shots=4, queries=4, meta_batch=2, steps=1,
                      val_every=1, val_episodes=2, out=str(out), seed=0,
                      learner={"hidden": 8, "eval_inner_steps": 1}), progress=False)
    return out


def test_set_changes_how_the_run_adapts_at_test_time(rl_run, capsys):
    assert main(["eval", str(rl_run), "--shots", "4", "--queries", "4", "--episodes", "2", "--threads", "1",
                 "--json", "--set", "eval_inner_steps=2", "--set", "later_lr_factor=0.5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["breakdown"]) == ["return_after_0", "return_after_1", "return_after_2"]
    learner, _, _ = load_learner(rl_run / "best.pt", overrides={"later_lr_factor": "0.5"})
    assert learner.config.later_lr_factor == 0.5 and learner.config.eval_inner_steps == 1


def test_set_that_changes_the_parameters_or_names_no_option_is_a_named_error(rl_run, capsys):
    with pytest.raises(CheckpointError, match="does not fit"):
        load_learner(rl_run / "best.pt", overrides={"hidden": "9"})
    with pytest.raises(ConfigError, match="no field 'eval_steps'"):
        load_learner(rl_run / "best.pt", overrides={"eval_steps": "2"})
    assert main(["eval", str(rl_run), "--shots", "4", "--set", "eval_inner_steps"]) != 0
    assert "--set takes KEY=VALUE" in capsys.readouterr().err
