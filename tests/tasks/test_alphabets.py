"""Within-alphabet episodes (Lake et al. 2015) and training augmentation, on the real lake split."""

import dataclasses

import pytest
import torch

from metalab.errors import ConfigError, DataError
from metalab.tasks.alphabets import random_affine, task_options
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.training.config import TrainConfig

ONE_SHOT = TaskShape(20, 1, 1)


@pytest.fixture(scope="module")
def test_tasks(data_dir):
    return load_tasks("omniglot", "test", split="lake", data_dir=data_dir, task={"within_alphabet": True})


def drawer_of(dataset, class_id, image):
    """Which of the class's 20 drawers drew ``image`` (exact pixel match)."""
    start = int(dataset.offsets[class_id])
    matches = [d for d in range(20) if torch.equal(dataset.images[start + d], image)]
    assert len(matches) == 1
    return matches[0]


def test_every_class_of_an_episode_comes_from_one_evaluation_alphabet(test_tasks):
    alphabets_seen = set()
    for index in range(40):
        episode = test_tasks.fixed(ONE_SHOT, 0, index)
        names = [test_tasks.dataset.class_names[c] for c in episode.classes]
        alphabets = {name.split("/")[0] for name in names}
        assert len(alphabets) == 1 and len(set(names)) == 20
        alphabets_seen |= alphabets
    assert len(alphabets_seen) > 5  # episodes spread over the alphabets


def test_support_and_query_are_by_different_drawers_one_drawer_each(test_tasks):
    dataset = test_tasks.dataset
    for index in range(5):
        episode = test_tasks.fixed(ONE_SHOT, 3, index)
        support = {drawer_of(dataset, int(c), x) for c, x in zip(episode.classes, episode.support_x)}
        query = {drawer_of(dataset, int(c), x) for c, x in zip(episode.classes[episode.query_y], episode.query_x)}
        assert len(support) == 1 and len(query) == 1 and support != query


def test_fixed_within_alphabet_episodes_repeat_and_differ_from_mixed_ones(test_tasks, data_dir):
    a, b = test_tasks.fixed(ONE_SHOT, 0, 7), test_tasks.fixed(ONE_SHOT, 0, 7)
    assert torch.equal(a.classes, b.classes) and torch.equal(a.query_x, b.query_x)
    mixed = load_tasks("omniglot", "test", split="lake", data_dir=data_dir)
    names = [mixed.dataset.class_names[c] for c in mixed.fixed(ONE_SHOT, 0, 7).classes]
    assert len({n.split("/")[0] for n in names}) > 1


def test_quarter_turns_and_affine_apply_to_training_only(data_dir):
    options = {"within_alphabet": True, "quarter_turns": True, "affine": 1.0}
    train = load_tasks("omniglot", "train", split="lake", data_dir=data_dir, task=options)
    val = load_tasks("omniglot", "val", split="lake", data_dir=data_dir, task=options)
    plain = load_tasks("omniglot", "train", split="lake", data_dir=data_dir)
    assert train.dataset.num_classes == 4 * plain.dataset.num_classes
    assert set(train.dataset.rotations.tolist()) == {0, 1, 2, 3} and not val.dataset.rotations.any()
    episode = train.sample(TaskShape(20, 1, 2), torch.Generator().manual_seed(0))
    assert len({int(train.dataset.rotations[c]) for c in episode.classes}) == 1  # a turned alphabet is one group
    originals = train.dataset.gather(episode.classes, torch.zeros(20, 1, dtype=torch.long))
    assert not any(torch.equal(x, o[0]) for x in episode.support_x for o in originals)  # distorted
    assert val.affine == 0.0


def test_training_on_train_plus_val_draws_both_parts_classes_with_training_augmentation(data_dir):
    options = {"quarter_turns": True, "affine": 1.0}
    both = load_tasks("omniglot", "train+val", split="lake", data_dir=data_dir, task=options)
    parts = [load_tasks("omniglot", part, split="lake", data_dir=data_dir).dataset for part in ("train", "val")]
    assert both.dataset.num_classes == 4 * sum(d.num_classes for d in parts)  # turned: augmented as training
    assert both.affine == 1.0
    with pytest.raises(ConfigError, match=r"train_part 'train\+val' needs .*not 'sinusoid'.*leave train_part"):
        TrainConfig(steps=1, dataset="sinusoid", train_part="train+val")
    with pytest.raises(ConfigError, match="train_part"):
        TrainConfig(steps=1, train_part="test")


def test_random_affine_is_seeded_keeps_range_and_is_identity_at_zero(data_dir):
    x = load_tasks("omniglot", "val", split="lake", data_dir=data_dir).dataset.images[:16]
    one = random_affine(x, torch.Generator().manual_seed(1))
    assert torch.equal(one, random_affine(x, torch.Generator().manual_seed(1)))
    assert one.shape == x.shape and one.min() >= 0 and one.max() <= 1
    assert 0 < (one - x).abs().mean() < x.mean()  # small distortions: most ink stays in place
    assert torch.equal(random_affine(x, torch.Generator(), 0.0), x)


def test_bad_task_options_are_named_errors(data_dir):
    with pytest.raises(ConfigError, match=r"task has no option\(s\) \['bogus'\]"):
        task_options({"within_alphabet": True, "bogus": 1})
    with pytest.raises(ConfigError, match="task.affine"):
        TrainConfig(steps=1, task={"affine": -1.0})
    with pytest.raises(ConfigError, match=r"'sinusoid' cannot use task option\(s\) \['within_alphabet'\]"):
        TrainConfig(steps=1, dataset="sinusoid", task={"within_alphabet": True})
    with pytest.raises(ConfigError, match="already has turned classes"):
        load_tasks("omniglot", "train", split="vinyals", data_dir=data_dir, task={"quarter_turns": True})
    val = load_tasks("omniglot", "val", split="lake", data_dir=data_dir, task={"within_alphabet": True})
    with pytest.raises(DataError, match="60-way within-alphabet tasks need an alphabet of 60 characters; the largest"):
        val.check(TaskShape(60, 1, 1))


def test_task_option_round_trips_and_configs_without_it_still_load():
    config = TrainConfig(steps=1, split="lake", task={"within_alphabet": True, "affine": 0.5})
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict({"steps": 1, "task": {"within_alphabet": "true", "affine": "0.5"}}).task == \
        {"within_alphabet": True, "affine": 0.5}
    old = {k: v for k, v in dataclasses.asdict(TrainConfig(steps=1)).items() if k != "task"}
    assert TrainConfig.from_dict(old).task == {}
