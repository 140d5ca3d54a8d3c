import pytest
import torch
import torch.nn.functional as F

from metalab.algorithms.metric.relation import RelationConfig, RelationNet, class_maps
from metalab.tasks.image import EpisodeStream


@pytest.fixture(scope="module")
def task(omniglot_train, first_classes):
    return next(EpisodeStream(first_classes(omniglot_train, 50), 4, 2, 3, meta_batch=1, seed=0)).task(0)


def test_relation_scores_are_in_zero_one_and_the_logits_are_their_log(task):
    learner = RelationNet().eval()
    with torch.no_grad():
        model = learner.adapt(task.support_x, task.support_y, 4)
        scores, logits = model.scores(task.query_x), model(task.query_x)
    assert scores.shape == (12, 4) and ((scores >= 0) & (scores <= 1)).all()
    assert torch.allclose(logits.exp(), scores)


def test_feature_maps_keep_their_spatial_layout(task):
    assert RelationNet().encoder(task.support_x).shape == (8, 64, 7, 7)


def test_class_feature_maps_are_summed_over_shots():
    maps = torch.randn(1, 6, 3, 2, 2)
    labels = torch.tensor([[0, 0, 1, 1, 2, 2]])
    assert torch.allclose(class_maps(maps, labels, 3)[0], maps[0].view(3, 2, 3, 2, 2).sum(1))


def test_class_feature_maps_average_over_uneven_shots():
    maps = torch.randn(1, 4, 3, 2, 2)
    labels = torch.tensor([[1, 0, 1, 1]])
    means = class_maps(maps, labels, 2, "mean")[0]
    assert torch.allclose(means[0], maps[0, 1]) and torch.allclose(means[1], maps[0, [0, 2, 3]].mean(0))


def test_shot_pool_decides_the_task_model_and_a_typo_is_an_error(task):
    from metalab.errors import ConfigError

    mean, summed = RelationNet().eval(), RelationNet(RelationConfig(shot_pool="sum")).eval()
    summed.load_state_dict(mean.state_dict())
    with torch.no_grad():
        two_shot = torch.tensor([0, 0, 1, 1])
        a = mean.adapt(task.support_x[:4], two_shot, 2).classes
        b = summed.adapt(task.support_x[:4], two_shot, 2).classes
    assert torch.allclose(2 * a, b)
    with pytest.raises(ConfigError, match="shot_pool"):
        RelationConfig(shot_pool="max")


def test_split_first_convolution_equals_the_module_on_concatenated_maps(task):
    learner = RelationNet().eval()
    with torch.no_grad():
        maps = learner.encoder(task.support_x)
        classes, queries = maps[:4], maps[4:7]
        fast = learner.relation(classes[None], queries[None])[0]  # [Q, N]
        pairs = [learner.relation.pair(classes[n : n + 1], queries[q : q + 1]) for q in range(3) for n in range(4)]
    assert torch.allclose(fast, torch.cat(pairs).view(3, 4), atol=1e-5)


def test_loss_is_the_squared_error_against_the_one_hot_match():
    logits = F.logsigmoid(torch.randn(5, 3))
    labels = torch.tensor([0, 1, 2, 0, 1])
    expected = ((logits.exp() - F.one_hot(labels, 3)) ** 2).mean()
    assert torch.allclose(RelationNet().query_loss(logits, labels), expected)

