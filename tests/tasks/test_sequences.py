import pytest
import torch

from metalab.errors import ConfigError, DataError
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.sequences import OmniglotSequences, instance_accuracy, instance_numbers, ordinal
from metalab.data.dataset import FewShotDataset


def tiny_dataset(sizes=(3, 5, 4)) -> FewShotDataset:
    """Class c's images are constant images of value 100*c + index, so picks are readable."""
    images = torch.cat([torch.full((n, 1, 2, 2), 0.0) + 100 * c + torch.arange(n).view(-1, 1, 1, 1)
                        for c, n in enumerate(sizes)])
    sizes_t = torch.tensor(sizes)
    return FewShotDataset(images, torch.cumsum(sizes_t, 0) - sizes_t, sizes_t, torch.zeros(len(sizes), dtype=torch.long),
                          tuple(f"c{i}" for i in range(len(sizes))), "tiny")


def test_instance_numbers_count_each_class_presentation():
    labels = torch.tensor([[2, 0, 2, 2, 0, 1]])
    assert instance_numbers(labels).tolist() == [[1, 1, 2, 3, 2, 1]]


def test_instance_accuracy_scores_each_presentation_separately():
    labels = torch.tensor([[0, 1, 0, 1]])
    guesses = torch.tensor([[1, 0, 0, 1]])  # wrong on first sightings, right on second
    logits = torch.nn.functional.one_hot(guesses, 2).float()
    assert instance_accuracy(logits, labels, 3)[0, :2].tolist() == [0.0, 1.0]
    assert torch.isnan(instance_accuracy(logits, labels, 3)[0, 2])


def test_sequence_episode_has_no_support_and_every_class_shots_times_in_mixed_order():
    family = OmniglotSequences(tiny_dataset((6, 6, 6)))
    episode = family.sample(TaskShape(3, 4, 1), torch.Generator().manual_seed(0))
    assert episode.support_x.shape == (0, 1, 2, 2) and episode.support_y.numel() == 0
    assert torch.bincount(episode.query_y).tolist() == [4, 4, 4]
    assert episode.query_y.tolist() != sorted(episode.query_y.tolist())  # not class-major
    for x, y in zip(episode.query_x, episode.query_y):  # label i is drawn class classes[i]
        assert int(x[0, 0, 0]) // 100 == int(episode.classes[y])
    assert len(set(episode.query_x[:, 0, 0, 0].tolist())) == 12  # distinct images


def test_fixed_sequences_are_reproducible_and_label_assignments_reshuffle():
    family = OmniglotSequences(tiny_dataset((6, 6, 6)))
    shape = TaskShape(3, 2, 1)
    assert torch.equal(family.fixed(shape, 0, 5).query_x, family.fixed(shape, 0, 5).query_x)
    assignments = {tuple(family.fixed(shape, 0, i).classes.tolist()) for i in range(20)}
    assert len(assignments) > 1


def test_too_many_instances_for_a_class_is_named():
    with pytest.raises(DataError, match="lower shots"):
        OmniglotSequences(tiny_dataset((3, 6))).check(TaskShape(2, 4, 1))


def test_metrics_report_the_papers_instances():
    labels = torch.arange(5).repeat(10)[None]
    metrics = OmniglotSequences(tiny_dataset()).metrics(torch.nn.functional.one_hot(labels, 5).float(), labels)
    assert set(metrics) == {"accuracy"} | {f"accuracy_{ordinal(i)}" for i in (1, 2, 3, 4, 5, 10)}
    assert all(v == 1.0 for v in metrics.values())


def test_omniglot_sequences_are_registered(data_dir):
    family = load_tasks("omniglot-sequences", "val", data_dir=data_dir)
    assert family.kind == "sequence" and family.dataset.num_classes == 400
    assert family.sample(TaskShape(5, 10, 1), torch.Generator().manual_seed(0)).query_x.shape[0] == 50


def test_affine_distorts_training_sequences_only_and_keeps_their_labels(data_dir):
    plain = load_tasks("omniglot-sequences", "train", data_dir=data_dir)
    augmented = load_tasks("omniglot-sequences", "train", data_dir=data_dir, task={"affine": 1.0})
    val = load_tasks("omniglot-sequences", "val", data_dir=data_dir, task={"affine": 1.0})
    shape = TaskShape(5, 10, 1)
    a, b = (f.sample(shape, torch.Generator().manual_seed(3)) for f in (plain, augmented))
    assert torch.equal(a.query_y, b.query_y) and torch.equal(a.classes, b.classes)
    assert not any(torch.equal(x, y) for x, y in zip(a.query_x, b.query_x))  # every image distorted
    assert (b.query_x - a.query_x).abs().mean() < a.query_x.abs().mean()  # small maps, not new images
    assert augmented.affine == 1.0 and val.affine == 0.0 and plain.affine == 0.0


def test_within_alphabet_is_not_an_option_of_sequences():
    with pytest.raises(ConfigError, match=r"cannot use task option\(s\) \['within_alphabet'\]"):
        load_tasks("omniglot-sequences", "train", task={"within_alphabet": True})
