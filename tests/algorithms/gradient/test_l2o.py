"""The learned optimizer (Andrychowicz et al. 2016): its rule, gradients and training path."""

import dataclasses
import json
import math

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.cli import main
from metalab.optim import CoordinateLSTM, LearnedOptimizer, preprocess_gradient
from metalab.tasks.family import TaskShape
from metalab.tasks.optimizees import Quadratics
from metalab.tasks.stream import TaskStream

SHAPE = TaskShape(None, 1, 1)


def tiny(**changes):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        values = {"in_channels": 3, "lstm_hidden": 3, "lstm_layers": 1, "unroll": 3, "truncation": 3, **changes}
        return build_learner("l2o", values).double()


def tiny_batch(tasks=2):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(tasks, 3, 3, generator=g, dtype=torch.float64)
    y = torch.randn(tasks, 3, 1, generator=g, dtype=torch.float64)
    from metalab.tasks.episode import Episode

    return Episode(w, y, w, y, torch.zeros(tasks, 0, dtype=torch.long))


def test_gradient_preprocessing_follows_the_papers_appendix():
    k = 10.0
    got = preprocess_gradient(torch.tensor([2.0, -1e-3, 1e-6, -1e-6]), k)
    assert got[0].tolist() == pytest.approx([math.log(2.0) / k, 1.0])
    assert got[1].tolist() == pytest.approx([math.log(1e-3) / k, -1.0])
    # below e^-k: (-1, e^k g)
    assert got[2].tolist() == pytest.approx([-1.0, math.exp(k) * 1e-6])
    assert got[3].tolist() == pytest.approx([-1.0, -math.exp(k) * 1e-6])


def test_meta_gradient_through_the_unroll_matches_finite_differences():
    learner, batch = tiny(second_order=True), tiny_batch()
    learner.zero_grad()
    learner.meta_loss(batch).loss.backward()
    eps = 1e-6
    for name, param in learner.named_parameters():
        flat, grad = param.data.view(-1), param.grad.view(-1)
        for i in range(0, flat.numel(), max(1, flat.numel() // 6)):
            saved = flat[i].item()
            flat[i] = saved + eps
            up = learner.meta_loss(batch).loss.item()
            flat[i] = saved - eps
            down = learner.meta_loss(batch).loss.item()
            flat[i] = saved
            assert grad[i].item() == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-8), (name, i)


def test_first_order_drops_the_gradients_dependence_on_the_optimizer():
    batch = tiny_batch()
    grads = {}
    for second in (True, False):
        learner = tiny(second_order=second)
        learner.zero_grad()
        learner.meta_loss(batch).loss.backward()
        grads[second] = torch.cat([p.grad.flatten() for p in learner.parameters()])
    assert not torch.allclose(grads[True], grads[False]) and grads[False].abs().sum() > 0


def test_truncated_unroll_yields_one_meta_loss_per_truncation_each_from_a_detached_start():
    learner = tiny(unroll=6, truncation=2)
    results = list(learner.meta_losses(tiny_batch()))
    assert len(results) == 3
    for result in results:  # each backpropagates alone (the graph of the earlier ones is cut)
        learner.zero_grad()
        result.loss.backward()
        assert all(p.grad is not None for p in learner.parameters())


def test_a_short_meta_training_beats_the_untrained_optimizer_on_held_out_quadratics():
    from metalab.evaluation.evaluate import evaluate

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("l2o")
    before = evaluate(learner, Quadratics("val"), shots=1, episodes=40)
    optimizer = torch.optim.Adam(learner.parameters(), 1e-3)
    stream = TaskStream(Quadratics("train"), SHAPE, meta_batch=8, seed=0)
    for _ in range(30):
        for result in learner.meta_losses(next(stream)):
            optimizer.zero_grad()
            result.loss.backward()
            optimizer.step()
    after = evaluate(learner, Quadratics("val"), shots=1, episodes=40)
    assert after.mean + after.ci95 < 0.1 * (before.mean - before.ci95), (before, after)


def test_the_learned_optimizer_drives_an_nn_module_as_adapt_does():
    learner = tiny(unroll=5).float()
    batch = tiny_batch(1)
    w, y = batch.support_x[0].float(), batch.support_y[0].float()
    model = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(learner.initial_params(w[None])["weight"][0])
        adapted = learner.adapt(w, y, 0)
    optimizer = LearnedOptimizer(model.parameters(), learner.net)
    for _ in range(5):
        optimizer.zero_grad()
        (model(w) - y).pow(2).sum().backward()
        optimizer.step()
    assert torch.allclose(model(w), adapted(w), atol=1e-5)


def test_train_and_eval_commands_on_quadratics(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "l2o", "--dataset", "quadratic", "--meta-batch", "4", "--steps", "4",
                 "--val-every", "2", "--val-episodes", "5", "--set", "unroll=20", "--set", "truncation=10",
                 "--out", str(run), "--no-progress"]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val_loss" in r] == [0, 2, 4]
    capsys.readouterr()
    assert main(["eval", str(run), "--shots", "1", "--episodes", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "loss" and result["dimension"] == 10 and result["episodes"] == 10
    assert main(["train", "--algorithm", "protonet", "--dataset", "quadratic", "--steps", "1",
                 "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    assert "quadratic/train tasks are optimizee; use an algorithm that learns them: l2o" in capsys.readouterr().err


def test_an_optimizer_trained_on_one_architecture_drives_another():
    """Coordinatewise, the LSTM does not depend on the optimizee's shape (the paper's Sec. 3.2)."""
    from metalab.tasks.optimizees import DigitsMLP

    batch = next(iter(TaskStream(DigitsMLP("train", examples=32), SHAPE, meta_batch=2, seed=0)))
    trained = build_learner("l2o", {"optimizee": "mlp", "in_channels": 64, "outputs": 10,
                                    "loss": "cross_entropy", "unroll": 3})
    for changes in ({"optimizee": "mlp2", "hidden": 40}, {"optimizee": "mlp-relu"}):
        other = build_learner("l2o", {**dataclasses.asdict(trained.config), **changes})
        other.net.load_state_dict(trained.net.state_dict())
        *_, (losses, params) = other.trajectory(batch, 3, meta=False)
        assert losses.shape == (3, 2) and torch.isfinite(losses).all()
        assert ("w3" in params) == (changes["optimizee"] == "mlp2")
