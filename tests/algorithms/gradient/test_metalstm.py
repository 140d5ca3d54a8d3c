"""The LSTM meta-learner (Ravi & Larochelle 2017): its gated rule and what meta-training reaches."""

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.errors import ConfigError
from metalab.optim import MetaLSTMNet, inner_loop, meta_lstm, sgd


def quadratic(params):
    return ((params["w"] - 3.0) ** 2).sum() + (params["b"] ** 2).sum()


def start():
    g = torch.Generator().manual_seed(0)
    return {"w": torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True),
            "b": torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)}


def test_untrained_rule_is_gradient_descent_with_its_initial_rate():
    # The input gate starts at the initial rate and the forget gate at ~1 (weights near 0):
    # one step is close to SGD's with that rate, the gap being the tiny initial weights' doing.
    torch.manual_seed(0)
    net = MetaLSTMNet(hidden=5, initial_rate=0.1, forget_bias=30.0).double()
    for gate in (net.input_gate, net.forget_gate):
        torch.nn.init.zeros_(gate.weight)
    learned = inner_loop(quadratic, start(), steps=3, rule=meta_lstm(net), first_order=True)
    plain = inner_loop(quadratic, start(), steps=3, rule=sgd(0.1), first_order=True)
    for name in plain:
        assert torch.allclose(learned[name], plain[name], atol=1e-9)


def test_rule_reads_the_loss_value():
    torch.manual_seed(0)
    net = MetaLSTMNet(hidden=5).double()
    rule = meta_lstm(net)
    params = start()
    grads = {k: torch.ones_like(v) for k, v in params.items()}
    low, _ = rule.update(grads, rule.init(params), params, torch.tensor(0.01, dtype=torch.float64))
    high, _ = rule.update(grads, rule.init(params), params, torch.tensor(100.0, dtype=torch.float64))
    assert not torch.allclose(low["w"], high["w"])


def test_exact_meta_gradient_of_the_rule_matches_finite_differences():
    torch.manual_seed(0)
    net = MetaLSTMNet(hidden=3, initial_rate=0.2).double()
    theta = start()

    def unrolled_loss():
        return quadratic(inner_loop(quadratic, theta, steps=2, rule=meta_lstm(net), first_order=False))

    unrolled_loss().backward()
    weight = net.input_gate.weight
    analytic = weight.grad[0, 0].item()
    eps = 1e-6
    with torch.no_grad():
        weight[0, 0] += eps
    plus = unrolled_loss().item()
    with torch.no_grad():
        weight[0, 0] -= 2 * eps
    minus = unrolled_loss().item()
    assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-4, abs=1e-8)
    assert theta["w"].grad is not None and theta["w"].grad.abs().sum() > 0


def test_initial_rate_outside_a_sigmoids_range_is_refused():
    with pytest.raises(ConfigError, match="inner_lr"):
        build_learner("metalstm", {"inner_lr": 1.5})


def test_first_order_meta_gradient_still_reaches_the_initialisation_and_the_rule():
    # The paper drops the second-order terms: gradients and loss enter the rule as constants,
    # but the query loss still depends on the start (the cell state) and on the gates' weights.
    torch.manual_seed(0)
    net = MetaLSTMNet(hidden=3, initial_rate=0.2).double()
    theta = start()
    quadratic(inner_loop(quadratic, theta, steps=2, rule=meta_lstm(net), first_order=True)).backward()
    assert theta["w"].grad.abs().sum() > 0 and net.input_gate.weight.grad.abs().sum() > 0
    assert net.lstm.weight.grad.abs().sum() > 0 and net.forget_gate.bias.grad.abs().sum() > 0
