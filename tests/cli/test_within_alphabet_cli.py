"""``metalab train --within-alphabet`` and ``metalab eval --within-alphabet`` end to end on a tiny
real run, with test-time augmentation and support fine-tuning."""

import json

import pytest
import torch

from metalab.cli import main
from metalab.errors import ConfigError
from metalab.evaluation.test_time import SupportFineTuned
from metalab.evaluation.test_time import TestTimeOptions as Options
from metalab.tasks.family import TaskShape
from metalab.training.checkpoint import load_learner, load_checkpoint


@pytest.fixture(scope="module")
def alphabet_run(tmp_path_factory, data_dir):
    run = tmp_path_factory.mktemp("alphabet") / "run"
    code = main(["train", "--algorithm", "protonet", "--split", "lake", "--data", str(data_dir), "--within-alphabet",
                 "--quarter-turns", "--affine", "1", "--ways", "20", "--shots", "1", "--queries", "2",
                 "--steps", "60", "--val-every", "60", "--val-episodes", "10", "--set", "hidden=16",
                 "--out", str(run), "--no-progress"])
    assert code == 0
    return run


def eval_json(run, data_dir, capsys, *extra):
    assert main(["eval", str(run), "--within-alphabet", "--ways", "20", "--shots", "1", "--queries", "1",
                 "--episodes", "30", "--data", str(data_dir), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_training_options_are_stored_in_the_checkpoint(alphabet_run):
    config = load_checkpoint(alphabet_run / "best.pt")["config"]
    assert config["task"] == {"within_alphabet": True, "quarter_turns": True, "affine": 1.0}


def test_eval_within_alphabet_beats_chance_and_says_what_it_measured(alphabet_run, data_dir, capsys):
    result = eval_json(alphabet_run, data_dir, capsys)
    assert result["within_alphabet"] is True and result["ways"] == 20 and result["episodes"] == 30
    assert result["accuracy"] > 5 + 7  # chance is 5%
    assert "test_time" not in result


def test_tta_and_finetuning_run_end_to_end_and_are_reported(alphabet_run, data_dir, capsys):
    result = eval_json(alphabet_run, data_dir, capsys, "--episodes", "6", "--tta", "1", "--finetune", "2")
    assert result["test_time"]["tta"] == 1 and result["test_time"]["finetune_steps"] == 2
    assert result["accuracy"] > 5 + 7


def test_finetuning_lowers_the_support_loss_and_leaves_the_trained_learner_unchanged(alphabet_run, data_dir):
    from metalab.tasks.registry import load_tasks

    learner, preprocess, _ = load_learner(alphabet_run / "best.pt")
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    episode = load_tasks("omniglot", "val", split="lake", data_dir=data_dir, preprocess=preprocess,
                         task={"within_alphabet": True}).fixed(TaskShape(20, 1, 1), 0, 0)
    loss = torch.nn.functional.cross_entropy
    plain = learner.adapt(episode.support_x, episode.support_y, 20)
    tuned = SupportFineTuned(learner, steps=20, lr=1e-3).adapt(episode.support_x, episode.support_y, 20)
    with torch.no_grad():
        assert loss(tuned(episode.support_x), episode.support_y) < loss(plain(episode.support_x), episode.support_y)
    assert all(torch.equal(before[k], v) for k, v in learner.state_dict().items())


def test_bad_test_time_options_are_named_errors(alphabet_run, data_dir, capsys):
    from metalab.algorithms import build_learner

    with pytest.raises(ConfigError, match="finetune_steps"):
        Options(finetune_steps=-1)
    with pytest.raises(ConfigError, match="takes a protonet run"):
        SupportFineTuned(build_learner("matching", {}), steps=1)
    assert main(["eval", str(alphabet_run), "--within-alphabet", "--ways", "60", "--shots", "1",
                 "--data", str(data_dir)]) == 2
    assert "60-way within-alphabet tasks need an alphabet" in capsys.readouterr().err
