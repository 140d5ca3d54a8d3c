"""A learned update rule: a coordinatewise LSTM optimizer (Andrychowicz et al. 2016).

One small LSTM, shared by every coordinate of every parameter, reads each coordinate's
gradient and emits its update, ``theta_{t+1} = theta_t + g_t`` with
``[g_t, h_{t+1}] = m(grad_t, h_t; phi)`` (Eq. 3). Each coordinate keeps its own hidden state,
the rule's explicit state. Gradients are preprocessed as in the paper's Appendix A: each
becomes the pair ``(log(|grad|) / k, sign(grad))`` if ``|grad| >= e^-k`` and ``(-1, e^k grad)``
otherwise, which keeps inputs of very different magnitudes in range; the LSTM's output is
scaled by ``output_scale`` (0.1 in the paper). The network's weights ``phi`` are
meta-parameters: meta-training differentiates the optimizee's losses along an unroll through
the updates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from metalab.optim.rules import Params, UpdateRule


def preprocess_gradient(grad: torch.Tensor, k: float = 10.0) -> torch.Tensor:
    """``[n]`` gradients -> ``[n, 2]`` inputs (Andrychowicz et al. 2016, Appendix A)."""
    magnitude = grad.abs()
    large = magnitude >= math.exp(-k)
    first = torch.where(large, magnitude.clamp_min(math.exp(-k)).log() / k, torch.full_like(grad, -1.0))
    second = torch.where(large, grad.sign(), grad * math.exp(k))
    return torch.stack([first, second], dim=-1)


class CoordinateLSTM(nn.Module):
    """The optimizer network m: ``layers`` LSTM cells of ``hidden`` units and a linear output,
    applied to every coordinate independently (coordinates are the batch dimension).

    Args:
        hidden: LSTM units per layer (20 in the paper).
        layers: stacked LSTM cells (2 in the paper).
        k: the gradient preprocessing's constant (10 in the paper).
        output_scale: the update is ``output_scale`` times the network's output (0.1).
    """

    def __init__(self, hidden: int = 20, layers: int = 2, k: float = 10.0, output_scale: float = 0.1) -> None:
        super().__init__()
        self.hidden, self.k, self.output_scale = hidden, k, output_scale
        self.cells = nn.ModuleList(nn.LSTMCell(2 if i == 0 else hidden, hidden) for i in range(layers))
        self.out = nn.Linear(hidden, 1)

    def initial_state(self, coordinates: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Zero ``(h, c)`` of every layer for ``coordinates`` coordinates."""
        zeros = like.new_zeros(coordinates, self.hidden)
        return tuple(zeros for _ in range(2 * len(self.cells)))

    def forward(self, grad: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """``[n]`` gradients and their state -> ``[n]`` updates and the new state."""
        x = preprocess_gradient(grad, self.k)
        new_state = []
        for i, cell in enumerate(self.cells):
            h, c = cell(x, (state[2 * i], state[2 * i + 1]))
            new_state += [h, c]
            x = h
        return self.output_scale * self.out(x).squeeze(-1), tuple(new_state)


def learned(net: CoordinateLSTM) -> UpdateRule:
    """The update rule of a :class:`CoordinateLSTM`; its state is every coordinate's hidden state."""

    def init(params: Params) -> dict[str, tuple[torch.Tensor, ...]]:
        return {k: net.initial_state(p.numel(), p) for k, p in params.items()}

    def update(grads: Params, state: dict, params: Params) -> tuple[Params, dict]:
        updates, new_state = {}, {}
        for k, g in grads.items():
            step, new_state[k] = net(g.reshape(-1), state[k])
            updates[k] = step.view_as(g)
        return updates, new_state

    return UpdateRule(init, update)


class LearnedOptimizer(torch.optim.Optimizer):
    """A trained :class:`CoordinateLSTM` as a ``torch.optim`` optimizer over any parameters.

    ``step()`` applies the network to each parameter's ``.grad`` and adds the update, keeping
    each coordinate's hidden state in ``self.state``; the network is not trained here. Use it
    on problems like those it was meta-trained on (a learned optimizer does not transfer
    freely: Andrychowicz et al. 2016, Sec. 3.2).

    Example::

        learner = metalab.load_learner("runs/l2o")[0]
        optimizer = LearnedOptimizer(model.parameters(), learner.net)
    """

    def __init__(self, params, net: CoordinateLSTM) -> None:
        super().__init__(params, defaults={})
        self.net = net

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "lstm" not in state:
                    state["lstm"] = self.net.initial_state(p.numel(), p)
                update, state["lstm"] = self.net(p.grad.reshape(-1), state["lstm"])
                p.add_(update.view_as(p))
        return loss
