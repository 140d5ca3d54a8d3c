import dataclasses

import pytest
import torch

from metalab.algorithms import MetaLearner, build_learner
from metalab.algorithms.metric.matching import MatchingNet, cosine_attention
from metalab.tasks.image import EpisodeStream


@pytest.fixture(scope="module")
def batch(omniglot_train, first_classes):
    return next(EpisodeStream(first_classes(omniglot_train, 50), 4, 2, 3, meta_batch=2, seed=0))


def test_attention_over_the_support_set_sums_to_one():
    a = cosine_attention(torch.randn(2, 7, 16), torch.randn(2, 5, 16))
    assert a.shape == (2, 7, 5) and (a > 0).all() and torch.allclose(a.sum(-1), torch.ones(2, 7))


@pytest.mark.parametrize("fce", [False, True])
def test_label_probabilities_are_the_attention_summed_per_class(fce, batch):
    learner = build_learner("matching", {"fce": fce}).eval()
    task = batch.task(0)
    with torch.no_grad():
        logits = learner.adapt(task.support_x, task.support_y, 4)(task.query_x)
    assert logits.shape == (12, 4) and torch.allclose(logits.exp().sum(-1), torch.ones(12), atol=1e-5)
    if not fce:  # Eq. 1 with the plain embeddings f = g
        a = cosine_attention(learner.encoder(task.query_x), learner.encoder(task.support_x),
                             scale=learner.config.scale).detach()
        assert torch.allclose(logits.exp(), a @ torch.nn.functional.one_hot(task.support_y, 4).float(), atol=1e-5)


def test_full_context_embeddings_batched_equal_per_task_and_survive_a_checkpoint(batch):
    torch.manual_seed(0)
    learner = build_learner("matching", {"fce": True, "fce_steps": 3}).eval()
    assert learner.context is not None
    assert torch.allclose(learner.meta_loss(batch).loss, MetaLearner.meta_loss(learner, batch).loss, atol=1e-5)
    restored = build_learner("matching", dataclasses.asdict(learner.config))
    restored.load_state_dict(learner.state_dict())
    assert torch.equal(restored.eval().predict(batch), learner.predict(batch))


def test_a_query_equal_to_a_support_image_is_labelled_by_it(batch):
    learner = MatchingNet().eval()
    task = batch.task(0)
    with torch.no_grad():
        logits = learner.adapt(task.support_x[::2], task.support_y[::2], 4)(task.support_x[::2])
    assert logits.argmax(-1).tolist() == [0, 1, 2, 3]



def test_a_scale_sharpens_the_attention_and_keeps_it_normalised():
    queries, support = torch.rand(7, 16), torch.rand(5, 16)
    flat, sharp = cosine_attention(queries, support), cosine_attention(queries, support, scale=10.0)
    assert torch.allclose(sharp.sum(-1), torch.ones(7)) and (sharp.max(-1).values > flat.max(-1).values).all()


def test_a_learned_scale_starts_at_the_configured_one_gets_gradients_and_survives_a_checkpoint(batch):
    torch.manual_seed(0)
    fixed = build_learner("matching", {"scale": 10.0})
    learned = build_learner("matching", {"scale": 10.0, "learn_scale": True})
    learned.encoder.load_state_dict(fixed.encoder.state_dict())
    assert fixed.log_scale is None and float(learned.scale) == pytest.approx(10.0)
    assert torch.allclose(learned.meta_loss(batch).loss, fixed.meta_loss(batch).loss, atol=1e-5)
    learned.meta_loss(batch).loss.backward()
    assert learned.log_scale.grad is not None and learned.log_scale.grad.abs() > 0
    with torch.no_grad():
        learned.log_scale.add_(0.5)
    restored = build_learner("matching", dataclasses.asdict(learned.config))
    restored.load_state_dict(learned.state_dict())
    assert float(restored.scale) == pytest.approx(10.0 * 2.718281828 ** 0.5)
    assert torch.equal(restored.eval().predict(batch), learned.eval().predict(batch))
