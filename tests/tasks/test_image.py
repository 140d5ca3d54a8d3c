import pytest
import torch

from metalab.data.dataset import FewShotDataset
from metalab.errors import DataError
from metalab.tasks.episode import Episode
from metalab.tasks.image import EpisodeStream, check_task, fixed_episode, fixed_episodes, sample_episode


def tiny_dataset(sizes=(3, 5, 4)) -> FewShotDataset:
    """Class c's images are constant images of value 100*c + index, so picks are readable."""
    images = torch.cat([torch.full((n, 1, 2, 2), 0.0) + 100 * c + torch.arange(n).view(-1, 1, 1, 1)
                        for c, n in enumerate(sizes)])
    sizes_t = torch.tensor(sizes)
    return FewShotDataset(images, torch.cumsum(sizes_t, 0) - sizes_t, sizes_t, torch.zeros(len(sizes), dtype=torch.long),
                          tuple(f"c{i}" for i in range(len(sizes))), "tiny")


def test_episode_labels_are_remapped_and_class_major():
    episode = sample_episode(tiny_dataset(), 3, 1, 2, torch.Generator().manual_seed(0))
    assert episode.support_y.tolist() == [0, 1, 2]
    assert episode.query_y.tolist() == [0, 0, 1, 1, 2, 2]
    # every image of label i comes from dataset class classes[i]
    for x, y in zip(torch.cat([episode.support_x, episode.query_x]), torch.cat([episode.support_y, episode.query_y])):
        assert int(x[0, 0, 0]) // 100 == int(episode.classes[y])


def test_support_and_query_images_are_distinct_within_a_class():
    for seed in range(20):
        episode = sample_episode(tiny_dataset(), 3, 1, 2, torch.Generator().manual_seed(seed))
        values = torch.cat([episode.support_x, episode.query_x])[:, 0, 0, 0]
        assert len(set(values.tolist())) == 9


def test_class_with_fewer_images_than_shots_plus_queries_is_named():
    with pytest.raises(DataError, match=r"fewer images than shots \+ queries = 2 \+ 2 = 4: c0 \(3\)"):
        check_task(tiny_dataset(), ways=2, shots=2, queries=2)


def test_more_ways_than_classes_is_an_error():
    with pytest.raises(DataError, match="5-way tasks need 5 classes but tiny has only 3"):
        EpisodeStream(tiny_dataset(), 5, 1, 1, meta_batch=1, seed=0)


def test_fixed_episode_is_a_pure_function_of_its_arguments(omniglot_val):
    a = fixed_episode(omniglot_val, 5, 1, 15, seed=0, index=7)
    b = fixed_episode(omniglot_val, 5, 1, 15, seed=0, index=7)
    assert torch.equal(a.query_x, b.query_x) and torch.equal(a.classes, b.classes)
    assert not torch.equal(a.classes, fixed_episode(omniglot_val, 5, 1, 15, seed=0, index=8).classes)
    assert not torch.equal(a.classes, fixed_episode(omniglot_val, 5, 1, 15, seed=1, index=7).classes)


def test_fixed_episodes_do_not_depend_on_the_batch_size(omniglot_val):
    one = torch.cat([e.classes for e in fixed_episodes(omniglot_val, 5, 1, 5, seed=3, count=6, batch=1)])
    three = torch.cat([e.classes for e in fixed_episodes(omniglot_val, 5, 1, 5, seed=3, count=6, batch=4)])
    assert torch.equal(one, three)


def test_rotated_classes_show_rotated_images(omniglot_train):
    # vinyals classes come as (character, 0/90/180/270); classes 0 and 1 are one character turned.
    picks = torch.arange(20)[None]
    upright = omniglot_train.gather(torch.tensor([0]), picks)
    turned = omniglot_train.gather(torch.tensor([1]), picks)
    assert torch.equal(torch.rot90(upright, 1, dims=(-2, -1)), turned)


def test_stream_resumes_from_its_state():
    stream = EpisodeStream(tiny_dataset(), 2, 1, 1, meta_batch=2, seed=5)
    next(stream)
    state = stream.state_dict()
    expected = next(stream)
    again = EpisodeStream(tiny_dataset(), 2, 1, 1, meta_batch=2, seed=99)
    again.load_state_dict(state)
    assert torch.equal(next(again).query_x, expected.query_x)


def test_batched_episode_shapes(omniglot_train):
    batch = next(EpisodeStream(omniglot_train, 5, 2, 3, meta_batch=4, seed=0))
    assert batch.batched and batch.tasks == 4 and batch.ways == 5
    assert batch.support_x.shape == (4, 10, 1, 28, 28) and batch.query_y.shape == (4, 15)
    task = batch.task(2)
    assert isinstance(task, Episode) and task.support_x.shape == (10, 1, 28, 28)
