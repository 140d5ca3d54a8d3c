"""MAML and relatives: gradients against their definitions, on tiny models in float64."""

import math

import pytest
import torch
from torch.func import functional_call

from metalab.algorithms import Runtime, build_learner
from metalab.optim import chain, inner_loop, meta_sgd, scale, scale_by, sgd
from metalab.tasks.losses import cross_entropy
from metalab.algorithms.gradient.reptile import reptile_surrogate
from metalab.algorithms.gradient.taml import entropy, entropy_reduction, theil_index
from metalab.errors import ConfigError
from metalab.training.config import TrainConfig
from metalab.training.loop import make_optimizer
from metalab.tasks.episode import Episode

TINY = {"backbone": "mlp", "in_channels": 2, "hidden": 3, "outputs": 3, "inner_lr": 0.5, "inner_steps": 2,
        "eval_inner_steps": None}


def tiny(name: str, seed: int = 0, workers: int = 0, vmap: bool | None = False, **changes):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        learner = build_learner(name, {**TINY, **changes}).double()
    learner.runtime = Runtime(workers=workers, vmap=vmap)
    return learner


def tiny_batch(tasks: int = 3, seed: int = 0) -> Episode:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(3).repeat(2)
    return Episode(
        support_x=torch.randn(tasks, 6, 2, generator=g, dtype=torch.float64),
        support_y=labels.expand(tasks, -1),
        query_x=torch.randn(tasks, 6, 2, generator=g, dtype=torch.float64),
        query_y=labels.expand(tasks, -1),
        classes=torch.arange(3).expand(tasks, -1),
    )


def meta_gradient(learner, batch) -> dict[str, torch.Tensor]:
    learner.zero_grad()
    learner.meta_loss(batch).loss.backward()
    return {k: p.grad.clone() for k, p in learner.named_parameters()}


@pytest.mark.parametrize("name", ["maml", "metasgd"])
def test_meta_gradient_matches_finite_differences(name):
    learner, batch = tiny(name), tiny_batch()
    analytic = meta_gradient(learner, batch)
    eps = 1e-6
    for key, param in learner.named_parameters():
        flat = param.data.view(-1)
        for i in range(flat.numel()):
            saved = flat[i].item()
            flat[i] = saved + eps
            up = learner.meta_loss(batch).loss.item()
            flat[i] = saved - eps
            down = learner.meta_loss(batch).loss.item()
            flat[i] = saved
            numeric = (up - down) / (2 * eps)
            assert analytic[key].view(-1)[i].item() == pytest.approx(numeric, rel=1e-4, abs=1e-7), (key, i)


def test_first_order_drops_second_derivatives():
    batch = tiny_batch()
    second, first = meta_gradient(tiny("maml"), batch), tiny("fomaml")
    first_grad = meta_gradient(first, batch)
    assert any(not torch.allclose(second[k], first_grad[k]) for k in second)
    # first-order MAML: the query loss's gradient at the adapted weights, averaged over tasks
    expected = {k: torch.zeros_like(g) for k, g in first_grad.items()}
    for t in range(batch.tasks):
        with torch.no_grad():
            fast = first.adapt(batch.support_x[t], batch.support_y[t], 3).params  # eval_inner_steps: None
        fast = {k: v.clone().requires_grad_() for k, v in fast.items()}
        loss = cross_entropy(functional_call(first.model, fast, (batch.query_x[t],)), batch.query_y[t])
        for k, g in zip(fast, torch.autograd.grad(loss, list(fast.values()))):
            expected["model." + k] += g / batch.tasks
    assert all(torch.allclose(first_grad[k], expected[k]) for k in expected)


def test_anil_adapts_only_the_head():
    learner, batch = tiny("anil"), tiny_batch()
    with torch.no_grad():
        fast = learner.adapt(batch.support_x[0], batch.support_y[0], 3).params
    theta = dict(learner.model.named_parameters())
    assert {k for k in theta if not torch.equal(fast[k], theta[k])} == {"head.weight", "head.bias"}


def test_update_rules_are_init_update_pairs():
    grads = {"w": torch.tensor([1.0, -2.0])}
    updates, state = sgd(0.1).update(grads, sgd(0.1).init(grads), grads)
    assert torch.allclose(updates["w"], torch.tensor([-0.1, 0.2])) and state == ()
    rule = meta_sgd({"w": torch.tensor([0.5, 0.25])})
    assert torch.allclose(rule.update(grads, rule.init(grads), grads)[0]["w"], torch.tensor([-0.5, 0.5]))


def test_chained_rules_compose_in_order_and_keep_each_state():
    grads = {"w": torch.tensor([1.0, -2.0])}
    rates = {"w": torch.tensor([0.5, 0.25])}
    composed = chain(scale_by(rates), scale(-1.0))  # Meta-SGD as a composition
    updates, state = composed.update(grads, composed.init(grads), grads)
    assert torch.equal(updates["w"], meta_sgd(rates).update(grads, (), grads)[0]["w"]) and state == ((), ())

    def counting():  # a stateful rule: counts its calls
        return (lambda params: 0), (lambda g, n, params: (g, n + 1))

    rule = chain(sgd(0.1), type(sgd(0.1))(*counting()))
    state = rule.init(grads)
    for _ in range(3):
        updates, state = rule.update(grads, state, grads)
    assert state == ((), 3) and torch.allclose(updates["w"], torch.tensor([-0.1, 0.2]))


def test_inner_loop_takes_a_loss_closure_and_matches_hand_steps():
    params = {"a": torch.tensor(3.0, requires_grad=True), "b": torch.tensor(-1.0, requires_grad=True)}

    def loss(p):  # (a - 1)^2 + (b + 2)^2: gradient 2(a - 1), 2(b + 2)
        return (p["a"] - 1) ** 2 + (p["b"] + 2) ** 2

    fast = inner_loop(loss, params, steps=2, rule=sgd(0.25), adapted=lambda name: name == "a")
    # a: 3 -> 3 - 0.25 * 4 = 2 -> 2 - 0.25 * 2 = 1.5; b is not adapted
    assert fast["a"].item() == pytest.approx(1.5) and fast["b"] is params["b"]
    fast["a"].backward()  # second order: d a'' / d a = (1 - 0.5)^2
    assert params["a"].grad.item() == pytest.approx(0.25)


def test_metasgd_learns_its_rates():
    learner, batch = tiny("metasgd", inner_steps=1), tiny_batch()
    start = {k: r.detach().clone() for k, r in learner.rates.items()}
    assert all(torch.all(r == 0.5) for r in start.values())
    optimizer = torch.optim.Adam(learner.parameters(), 1e-2)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        result = learner.meta_loss(batch)
        result.loss.backward()
        assert all(r.grad is not None and r.grad.abs().sum() > 0 for r in learner.rates.values())
        optimizer.step()
        losses.append(result.loss.item())
    assert all(not torch.equal(start[k], r) for k, r in learner.rates.items())
    assert losses[-1] < losses[0]


def test_reptile_surrogate_gradient_is_theta_minus_phi():
    learner, batch = tiny("reptile", inner_on_queries=False), tiny_batch()
    grads = meta_gradient(learner, batch)
    phis = [learner.fast_weights(batch.support_x[t], batch.support_y[t], steps=learner.config.inner_steps, outer=False)
            for t in range(batch.tasks)]
    for k, theta in learner.model.named_parameters():
        expected = theta.detach() - torch.stack([phi[k] for phi in phis]).mean(0)
        assert torch.allclose(grads["model." + k], expected)
    theta = {"w": torch.tensor([1.0, 2.0], requires_grad=True)}
    reptile_surrogate(theta, [{"w": torch.tensor([0.0, 0.0])}, {"w": torch.tensor([2.0, 0.0])}]).backward()
    assert torch.equal(theta["w"].grad, torch.tensor([0.0, 2.0]))  # theta - mean(phi) = [1-1, 2-0]


def test_reptile_with_sgd_at_lr_one_moves_theta_to_the_mean_adapted_weights():
    """``--optimizer sgd --lr 1`` is Nichol et al.'s Algorithm 2 with eps = 1: theta <- mean_i phi_i."""
    learner, batch = tiny("reptile", inner_on_queries=False), tiny_batch()
    phis = [learner.fast_weights(batch.support_x[t], batch.support_y[t], steps=learner.config.inner_steps, outer=False)
            for t in range(batch.tasks)]
    expected = {k: torch.stack([phi[k].detach() for phi in phis]).mean(0) for k in phis[0]}
    optimizer = make_optimizer(TrainConfig(steps=1, optimizer="sgd", lr=1.0), learner.parameters())
    optimizer.zero_grad()
    learner.meta_loss(batch).loss.backward()
    optimizer.step()
    for k, theta in learner.model.named_parameters():
        assert torch.allclose(theta, expected[k])


def test_reptile_inner_on_queries_steps_on_support_and_queries_together():
    learner, batch = tiny("reptile", inner_on_queries=True), tiny_batch()
    grads = meta_gradient(learner, batch)
    phis = [learner.fast_weights(torch.cat([batch.support_x[t], batch.query_x[t]]),
                                 torch.cat([batch.support_y[t], batch.query_y[t]]),
                                 steps=learner.config.inner_steps, outer=False) for t in range(batch.tasks)]
    support_only = meta_gradient(tiny("reptile", inner_on_queries=False), batch)
    for k, theta in learner.model.named_parameters():
        expected = theta.detach() - torch.stack([phi[k] for phi in phis]).mean(0)
        assert torch.allclose(grads["model." + k], expected)
        assert not torch.allclose(grads["model." + k], support_only["model." + k])


def test_taml_regularizers_on_a_hand_example():
    uniform = torch.zeros(2, 4, 2)  # two tasks, four inputs, two classes: H = ln 2
    assert torch.allclose(entropy(uniform), torch.full((2,), math.log(2)))
    certain = torch.tensor([[[30.0, 0.0]]])  # H ~ 0
    assert entropy(certain).item() == pytest.approx(0.0, abs=1e-10)
    h0, h1 = torch.full((2,), math.log(2)), torch.tensor([0.1, 0.3])
    # mean_i [-H0 + (H1 - H0)] = 0.2 - 2 ln 2
    assert entropy_reduction(h0, h1).item() == pytest.approx(0.2 - 2 * math.log(2))
    assert theil_index(torch.tensor([2.0, 2.0, 2.0])).item() == pytest.approx(0.0, abs=1e-12)
    # losses 1 and 3: mean 2, ratios 1/2 and 3/2
    expected = (0.5 * math.log(0.5) + 1.5 * math.log(1.5)) / 2
    assert theil_index(torch.tensor([1.0, 3.0], dtype=torch.float64)).item() == pytest.approx(expected)


@pytest.mark.parametrize("regularizer", ["entropy", "theil"])
def test_taml_meta_loss_is_query_loss_plus_weighted_regularizer(regularizer):
    batch = tiny_batch()
    taml = tiny("taml", regularizer=regularizer, weight=0.5)
    result = taml.meta_loss(batch)
    assert result.loss.item() == pytest.approx(result.metrics["query_loss"] + 0.5 * result.metrics[regularizer])
    maml = tiny("maml")
    assert result.metrics["query_loss"] == pytest.approx(maml.meta_loss(batch).loss.item())


def test_vmap_over_tasks_gives_the_loop_result():
    batch = tiny_batch(tasks=4)
    loop, vmapped = tiny("maml", vmap=False), tiny("maml", vmap=True)
    assert torch.allclose(loop.meta_loss(batch).loss, vmapped.meta_loss(batch).loss)
    a, b = meta_gradient(loop, batch), meta_gradient(vmapped, batch)
    assert all(torch.allclose(a[k], b[k]) for k in a)


def test_adapt_works_under_no_grad_and_leaves_nothing_attached():
    learner, batch = tiny("maml").eval(), tiny_batch()
    with torch.no_grad():
        logits = learner.predict(batch)
        model = learner.adapt(batch.support_x[0], batch.support_y[0], 3)
    assert logits.shape == (3, 6, 3) and not logits.requires_grad
    assert all(not p.requires_grad for p in model.params.values())
    assert not torch.equal(model.params["head.bias"], learner.model.head.bias)


def test_bad_hyperparameters_and_task_shapes_are_clear_errors():
    with pytest.raises(ConfigError, match="inner_lr must be a positive number"):
        build_learner("maml", {"inner_lr": 0.0})
    with pytest.raises(ConfigError, match="backbone must be one of"):
        build_learner("maml", {"backbone": "resnet"})
    with pytest.raises(ConfigError, match="regularizer must be one of"):
        build_learner("taml", {"regularizer": "gini"})
    learner = tiny("maml")
    batch = tiny_batch()
    with pytest.raises(ConfigError, match="head of 3 outputs but the task is 5-way"):
        learner.adapt(batch.support_x[0], batch.support_y[0], 5)


@pytest.mark.parametrize("name", ["maml", "anil", "metasgd"])
def test_task_workers_give_the_single_thread_loss_and_gradient(name):
    batch = tiny_batch(tasks=5)
    one, two = tiny(name, workers=1), tiny(name, workers=2)
    assert one.meta_loss(batch).loss.item() == pytest.approx(two.meta_loss(batch).loss.item(), rel=1e-12)
    expected, got = meta_gradient(one, batch), meta_gradient(two, batch)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-10, atol=1e-12)


def test_task_workers_leave_the_callers_thread_count_alone():
    threads = torch.get_num_threads()
    tiny("maml", workers=2).meta_loss(tiny_batch()).loss.backward()
    assert torch.get_num_threads() == threads


def test_runtime_options_are_not_hyperparameters():
    with pytest.raises(ConfigError, match="runtime options, not hyperparameters"):
        build_learner("maml", {"workers": 2})
    assert "vmap" not in build_learner("maml").config.__dataclass_fields__


def test_vmap_is_on_by_default_for_the_mlp_and_off_for_conv4():
    assert build_learner("maml", {"backbone": "mlp", "in_channels": 1}).vmapped
    assert not build_learner("maml").vmapped


@pytest.mark.parametrize("name, ways", [(n, 5) for n in ("maml", "fomaml", "metasgd", "anil", "reptile", "taml")]
                         + [(n, 20) for n in ("maml", "fomaml", "metasgd", "anil", "reptile")])
def test_omniglot_configs_build_their_learner_with_a_30_minute_budget(name, ways):
    from pathlib import Path

    from metalab.algorithms import build_learner
    from metalab.training.config import TrainConfig, load_yaml

    file = Path(__file__).resolve().parents[3] / "configs" / f"{name}_omniglot_{ways}w1s.yaml"
    config = TrainConfig.from_dict(load_yaml(file))
    assert config.algorithm == name and config.budget == 1800 and config.val_ways == config.ways == ways
    learner = build_learner(name, {**config.learner, "outputs": config.ways})
    assert learner.name == name
    head = [p for p in learner.parameters() if p.ndim == 2][-1]  # the linear head's weight
    assert head.shape[0] == ways
