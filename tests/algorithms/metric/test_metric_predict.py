"""``metalab train / predict / eval`` from a checkpoint of each metric-based learner."""

import json

import pytest
import torch

from metalab.cli import main
from metalab.cli.demo import write_unseen_characters
from metalab.data.folder import image_files, image_folder, read_images
from metalab.training.checkpoint import load_learner

# The table each learner's Omniglot figure is taken from (the figures live in metalab.evaluation.paper).
PAPER_TABLE = {"siamese": "Siamese nets (Koch et al. 2015), as reported by Finn et al. 2017, Table 1",
               "matching": "Vinyals et al. 2016, Table 1", "relation": "Sung et al. 2018, Table 1"}


@pytest.mark.parametrize("name", sorted(PAPER_TABLE))
def test_predict_and_eval_from_a_trained_checkpoint(name, tmp_path, data_dir, capsys):
    run = tmp_path / "run"
    assert main(["train", "--algorithm", name, "--data", str(data_dir), "--ways", "5", "--shots", "1",
                 "--queries", "5", "--meta-batch", "2", "--steps", "10", "--val-every", "10",
                 "--val-episodes", "5", "--out", str(run), "--threads", "1", "--no-progress"]) == 0
    truth = write_unseen_characters(tmp_path, str(data_dir), ways=5, seed=1)
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(run), "--support", str(tmp_path / "support"),
                 "--query", str(tmp_path / "query"), "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)
    assert sorted(p["query"] for p in predictions) == sorted(truth)
    assert all(0 < p["probability"] <= 1 for p in predictions)

    learner, preprocess, _ = load_learner(run)  # the same answers as the learner's own task model
    support = image_folder(tmp_path / "support", preprocess)
    files = image_files(tmp_path / "query")
    with torch.no_grad():
        phi = learner.adapt(support.images, torch.repeat_interleave(torch.arange(5), support.sizes), 5)
        expected = phi(read_images(files, preprocess)).argmax(-1)
    by_file = {p["query"]: p["predicted"] for p in predictions}
    assert [by_file[f.name] for f in files] == [support.class_names[i] for i in expected]

    assert main(["eval", str(run), "--ways", "5", "--shots", "1", "--episodes", "10", "--data", str(data_dir),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["algorithm"] == name and result["episodes"] == 10
    assert result["paper_source"] == PAPER_TABLE[name] and 90 < result["paper"] < 100


@pytest.mark.parametrize("name", sorted(PAPER_TABLE))
def test_paper_configs_build_their_learner(name):
    from pathlib import Path

    from metalab.algorithms import build_learner
    from metalab.training.config import TrainConfig, load_yaml

    files = sorted((Path(__file__).resolve().parents[3] / "configs").glob(f"{name}_omniglot_*shot.yaml"))
    assert len(files) == 2
    for file in files:
        config = TrainConfig.from_dict(load_yaml(file))
        assert config.algorithm == name and config.budget == 1800
        assert build_learner(name, {**config.learner, "in_channels": 1}).name == name


def test_the_learners_import_from_the_package_root():
    import metalab

    assert {"Siamese", "MatchingNet", "RelationNet"} <= set(metalab.__all__)
    assert [metalab.ALGORITHMS[n] for n in ("siamese", "matching", "relation")] == [
        metalab.Siamese, metalab.MatchingNet, metalab.RelationNet]
