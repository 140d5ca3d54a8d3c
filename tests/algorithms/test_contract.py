"""The contract every meta-learner must pass (parametrised over all registered algorithms)."""

import dataclasses

import pytest
import torch

from metalab.algorithms import ALGORITHMS, MetaLearner, build_learner
from metalab.tasks.episode import Episode
from metalab.tasks.sampling import EpisodeStream
from metalab.training.checkpoint import load_learner, save_checkpoint

NAMES = sorted(ALGORITHMS)


def seeded(name: str, seed: int = 0) -> MetaLearner:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_learner(name)


@pytest.fixture(scope="module")
def batch(omniglot_train, first_classes) -> Episode:
    return next(EpisodeStream(first_classes(omniglot_train, 200), 5, 2, 3, meta_batch=3, seed=1))


@pytest.mark.parametrize("name", NAMES)
def test_task_model_maps_queries_to_one_logit_per_way(name, batch):
    task = batch.task(0)
    logits = seeded(name).eval().adapt(task.support_x, task.support_y, task.ways)(task.query_x)
    assert logits.shape == (15, 5) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name", NAMES)
def test_adapt_keeps_no_task_state_on_the_learner(name, batch):
    learner = seeded(name).eval()
    first, second = batch.task(0), batch.task(1)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    with torch.no_grad():
        model_a = learner.adapt(first.support_x, first.support_y, 5)
        logits_a = model_a(first.query_x)
        learner.adapt(second.support_x, second.support_y, 5)
        assert torch.equal(model_a(first.query_x), logits_a)
    after = learner.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_learner_and_loss(name, batch):
    a, b = seeded(name, 3), seeded(name, 3)
    assert torch.equal(a.meta_loss(batch).loss, b.meta_loss(batch).loss)
    assert not torch.equal(a.meta_loss(batch).loss, seeded(name, 4).meta_loss(batch).loss)


@pytest.mark.parametrize("name", NAMES)
def test_batched_meta_loss_equals_the_per_task_definition(name, batch):
    learner = seeded(name).eval()  # eval: batch norm statistics do not depend on batching
    result = learner.meta_loss(batch)
    # A meta-loss that is not the plain query loss (Reptile's surrogate, TAML's regularizers)
    # comes with the adapted models' query loss in metrics["query_loss"]; that is compared.
    fast = torch.as_tensor(result.metrics.get("query_loss", result.loss))
    reference = MetaLearner.meta_loss(learner, batch).loss
    # MAML's relatives share the tasks among threads of one PyTorch thread each, whose float
    # sums differ from a two-thread reference's by about 2e-5 relative (equal with one thread).
    assert torch.allclose(fast, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_learns_a_few_shot_task_on_real_characters(name, omniglot_train, omniglot_val):
    learner = seeded(name)
    optimizer = torch.optim.Adam(learner.parameters(), 1e-3)
    stream = EpisodeStream(omniglot_train, 5, 1, 5, meta_batch=4, seed=0)
    for _ in range(40):
        optimizer.zero_grad()
        learner.meta_loss(next(stream)).loss.backward()
        optimizer.step()
    from metalab.evaluation.evaluate import evaluate

    result = evaluate(learner, omniglot_val, ways=5, shots=1, queries=5, episodes=50)
    assert result.accuracy > 60.0, result  # chance is 20%


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip_gives_identical_predictions(name, batch, tmp_path):
    learner = seeded(name).eval()
    state = {"algorithm": name, "learner_config": dataclasses.asdict(learner.config),
             "preprocess": {"size": 28, "channels": 1, "invert": True}, "model": learner.state_dict(),
             "config": {}}
    save_checkpoint(state, tmp_path / "m.pt")
    restored, _, _ = load_learner(tmp_path / "m.pt")
    assert torch.equal(restored.predict(batch), learner.predict(batch))
