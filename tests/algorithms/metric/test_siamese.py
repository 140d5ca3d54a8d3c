import pytest
import torch
import torch.nn.functional as F

from metalab.algorithms.metric.siamese import Siamese
from metalab.errors import ConfigError
from metalab.tasks.image import EpisodeStream


@pytest.fixture(scope="module")
def episode(omniglot_train, first_classes):
    return next(EpisodeStream(first_classes(omniglot_train, 50), 4, 3, 2, meta_batch=1, seed=0)).task(0)


def test_similarity_is_a_probability_symmetric_in_its_two_inputs(episode):
    learner = Siamese().eval()
    a, b = episode.support_x[:6], episode.query_x[:6]
    with torch.no_grad():
        p = learner.similarity(a, b)
        assert torch.equal(p, learner.similarity(b, a))
    assert p.shape == (6,) and ((p > 0) & (p < 1)).all()


def test_a_class_scores_the_mean_similarity_of_its_shots(episode):
    learner = Siamese().eval()
    with torch.no_grad():
        logits = learner.adapt(episode.support_x, episode.support_y, 4)(episode.query_x)
        for k in range(4):
            shots = episode.support_x[episode.support_y == k]
            p = torch.stack([learner.similarity(episode.query_x, s.expand_as(episode.query_x)) for s in shots])
            assert torch.allclose(logits[:, k].exp(), p.mean(0), atol=1e-5)


def test_one_shot_loss_is_binary_cross_entropy_on_query_support_pairs(omniglot_train, first_classes):
    task = next(EpisodeStream(first_classes(omniglot_train, 50), 3, 1, 2, meta_batch=1, seed=0)).task(0)
    learner = Siamese().eval()
    with torch.no_grad():
        loss = learner.query_loss(learner.adapt(task.support_x, task.support_y, 3)(task.query_x), task.query_y)
        pairs = [(q, s, float(task.query_y[i] == k))
                 for i, q in enumerate(task.query_x) for k, s in enumerate(task.support_x)]
        p = learner.similarity(torch.stack([q for q, _, _ in pairs]), torch.stack([s for _, s, _ in pairs]))
        reference = F.binary_cross_entropy(p, torch.tensor([y for _, _, y in pairs]))
    assert torch.allclose(loss, reference, atol=1e-5)


def test_images_of_another_size_are_refused_with_the_fix(episode):
    with pytest.raises(ConfigError, match="image_size=84"):
        Siamese().adapt(torch.zeros(2, 1, 84, 84), torch.arange(2), 2)

