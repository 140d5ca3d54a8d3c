"""MAML++'s options (Antoniou et al. 2019): multi-step loss, per-step batch norm, learned
per-layer per-step rates, first-order early; each checked against its definition."""

import dataclasses

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.algorithms.gradient.maml import _key, step_weights
from metalab.errors import ConfigError
from metalab.tasks.family import TaskShape
from metalab.tasks.image import ImageClassification
from metalab.tasks.stream import TaskStream
from metalab.training.config import TrainConfig
from metalab.training.loop import train

TINY = {"hidden": 8, "inner_steps": 2, "eval_inner_steps": 3, "outputs": 5}


@pytest.fixture(scope="module")
def batch(omniglot_train, first_classes):
    return next(TaskStream(ImageClassification(first_classes(omniglot_train, 30)), TaskShape(5, 1, 2), 2, seed=3))


def learner(seed: int = 0, name: str = "maml", **options):
    torch.manual_seed(seed)
    return build_learner(name, {**TINY, **options})


def grads(model, loss) -> dict[str, torch.Tensor]:
    names, params = zip(*[(k, p) for k, p in model.named_parameters() if p.requires_grad])
    return dict(zip(names, torch.autograd.grad(loss, params, allow_unused=True)))


def test_multi_step_weights_start_equal_and_anneal_to_the_last_step():
    assert step_weights(4, 0, 100) == [0.25] * 4
    halfway, annealed = step_weights(4, 50, 100), step_weights(4, 10_000, 100)
    assert halfway[0] == pytest.approx(0.125) and sum(halfway) == pytest.approx(1)
    assert annealed[:3] == [pytest.approx(0.0075)] * 3 and annealed[3] == pytest.approx(1 - 3 * 0.0075)
    assert step_weights(1, 0, 100) == [1.0]


def test_multi_step_loss_is_the_weighted_sum_of_the_query_losses_after_each_step(batch):
    msl = learner(multi_step_loss=True, msl_anneal_steps=10)
    msl.set_training_step(5)  # weights (0.25, 0.75)
    task = batch.task(0)
    path = msl.fast_path(task.support_x, task.support_y, steps=2, outer=True)
    losses = [msl.task_loss(torch.func.functional_call(msl.model, p, (task.query_x,)), task.query_y) for p in path]
    want = 0.25 * losses[0] + 0.75 * losses[1]
    got, _ = msl._adapted_loss(task.support_x, task.support_y, task.query_x, task.query_y)
    assert torch.allclose(got, want)
    plain = learner()
    plain_loss, _ = plain._adapted_loss(task.support_x, task.support_y, task.query_x, task.query_y)
    assert torch.allclose(plain_loss, losses[1])  # the same initialisation: the last step's loss alone


def test_per_step_batch_norm_keeps_separate_weights_per_step_that_the_inner_loop_does_not_change(batch):
    maml = learner(per_step_bn=True)
    norm = "model.body.features.0.1.weight"
    rows = maml.step_norms[_key(norm.removeprefix("model."))]
    assert rows.shape == (2, 8)
    gradient = grads(maml, maml.meta_loss(batch).loss)
    assert gradient[norm] is None or not gradient[norm].any()  # the model's own norms are replaced at every step
    step_grads = gradient[f"step_norms.{_key(norm.removeprefix('model.'))}"]
    assert step_grads[0].abs().sum() > 0 and step_grads[1].abs().sum() > 0
    assert not torch.allclose(step_grads[0], step_grads[1])  # each step's weights get their own gradient
    task = batch.task(0)
    with torch.no_grad():
        rows.copy_(torch.stack([torch.full((8,), 0.5), torch.full((8,), 2.0)]))
    for steps, path in ((2, maml.fast_path(task.support_x, task.support_y, steps=2, outer=True)),
                        (3, maml.fast_path(task.support_x, task.support_y, steps=3, outer=False))):
        weights = [p[norm.removeprefix("model.")] for p in path]
        assert [float(w[0].detach()) for w in weights] == [0.5, 2.0, 2.0][:steps]  # beyond training's steps: the last


def test_learned_per_step_rates_get_the_finite_difference_gradient(batch):
    maml = learner(learned_lrs=True).double()
    batch = dataclasses.replace(batch, support_x=batch.support_x.double(), query_x=batch.query_x.double())
    key = _key("head.weight")
    rates = maml.step_rates[key]
    assert rates.shape == (2,) and torch.allclose(rates, torch.full_like(rates, 0.4))
    gradient = grads(maml, maml.meta_loss(batch).loss)[f"step_rates.{key}"]
    assert gradient.abs().min() > 0
    for step in range(2):
        with torch.no_grad():
            rates[step] += 1e-6
            up = maml.meta_loss(batch).loss
            rates[step] -= 2e-6
            down = maml.meta_loss(batch).loss
            rates[step] += 1e-6
        assert float(gradient[step]) == pytest.approx(float(up - down) / 2e-6, rel=1e-4, abs=1e-8)


def test_first_order_until_drops_second_derivatives_only_for_the_first_updates(batch):
    annealed, first, second = learner(first_order_until=3), learner(first_order=True), learner()
    for step, same_as in ((2, first), (3, second)):
        annealed.set_training_step(step)
        got, want = grads(annealed, annealed.meta_loss(batch).loss), grads(same_as, same_as.meta_loss(batch).loss)
        assert all(torch.allclose(got[k], want[k], atol=1e-6) for k in got)
    assert not torch.allclose(grads(first, first.meta_loss(batch).loss)["model.head.weight"],
                              grads(second, second.meta_loss(batch).loss)["model.head.weight"], atol=1e-6)


def test_options_a_learner_cannot_use_and_a_backbone_without_norms_are_named():
    with pytest.raises(ConfigError, match="multi_step_loss is not an option of reptile"):
        build_learner("reptile", {"multi_step_loss": True})
    with pytest.raises(ConfigError, match="learned_lrs is not an option of metasgd"):
        build_learner("metasgd", {"learned_lrs": True})
    with pytest.raises(ConfigError, match="per_step_bn needs batch norm in the backbone; mlp has none"):
        build_learner("maml", {"backbone": "mlp", "per_step_bn": True})


def test_the_training_loop_tells_the_learner_its_step(tmp_path, omniglot_train, omniglot_val, first_classes):
    seen = []
    maml = learner(multi_step_loss=True)
    set_step = maml.set_training_step
    maml.set_training_step = lambda step: (seen.append(step), set_step(step))
    config = TrainConfig(algorithm="maml", dataset="omniglot", ways=5, shots=1, queries=2, meta_batch=2, steps=3,
                         val_every=3, val_episodes=2, out=str(tmp_path / "run"), seed=0, learner=TINY)
    tasks = (ImageClassification(first_classes(omniglot_train, 30)), ImageClassification(first_classes(omniglot_val, 20)))
    train(config, progress=False, learner=maml, tasks=tasks)
    assert seen == [0, 1, 2]
