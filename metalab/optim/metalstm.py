"""The LSTM meta-learner's update rule (Ravi & Larochelle 2017, "Optimization as a model for
few-shot learning").

The learner's parameters are the cell state of an LSTM applied to every coordinate: one
update is ``c_t = f_t * c_{t-1} + i_t * (-grad_t)`` (Eq. 2), so the input gate ``i_t`` is a
learned, per-coordinate learning rate and the forget gate ``f_t`` a learned weight decay. The
gates read the coordinate's value and their own previous value besides the output of a first,
ordinary LSTM over the preprocessed gradient and loss (Sec. 3.2, Eqs. 3-4):
``i_t = sigmoid(W_I [h_t, theta_{t-1}, i_{t-1}] + b_I)`` and likewise ``f_t``. Gradient and loss
are preprocessed as in Andrychowicz et al. 2016 (log-magnitude and sign). The forget bias
starts high (``f ~ 1``: no decay) and the input bias at the logit of ``initial_rate``, so an
untrained rule is plain gradient descent with that step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from metalab.optim.learned import preprocess_gradient
from metalab.optim.rules import Params, UpdateRule


class MetaLSTMNet(nn.Module):
    """The two-layer coordinatewise network: an LSTM of ``hidden`` units on
    ``[preprocessed grad, preprocessed loss]`` (4 inputs), then the input and forget gates.

    Args:
        hidden: units of the first LSTM (20 in the paper).
        k: the preprocessing constant (10).
        initial_rate: the input gate's starting value (the step of the rule before training).
        forget_bias: the forget gate's starting bias (``sigmoid(6) = 0.9975``).
    """

    def __init__(self, hidden: int = 20, k: float = 10.0, initial_rate: float = 0.1, forget_bias: float = 6.0) -> None:
        super().__init__()
        self.hidden, self.k = hidden, k
        self.lstm = nn.Linear(4 + hidden, 4 * hidden)  # an LSTM cell written out: vmap has no rule for lstm_cell
        self.input_gate = nn.Linear(hidden + 2, 1)
        self.forget_gate = nn.Linear(hidden + 2, 1)
        for gate, bias in ((self.input_gate, math.log(initial_rate / (1 - initial_rate))), (self.forget_gate, forget_bias)):
            nn.init.uniform_(gate.weight, -0.01, 0.01)  # the paper's small initial weights
            nn.init.constant_(gate.bias, bias)

    def initial_state(self, coordinates: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(h, c)`` of the first LSTM and the previous gates ``(i, f)``, all zero."""
        zeros, gates = like.new_zeros(coordinates, self.hidden), like.new_zeros(coordinates, 1)
        return zeros, zeros, gates, gates

    def forward(
        self, grad: torch.Tensor, loss: torch.Tensor, theta: torch.Tensor, state: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """``[n]`` gradients, the scalar loss and ``[n]`` parameters -> ``[n]`` updates
        ``c_t - c_{t-1} = (f_t - 1) theta - i_t grad`` and the new state."""
        h, c, i_prev, f_prev = state
        loss_features = preprocess_gradient(loss.reshape(1), self.k).expand(grad.shape[0], 2)
        x = torch.cat([preprocess_gradient(grad, self.k), loss_features, h], dim=-1)
        in_gate, forget_gate, cell_gate, out_gate = self.lstm(x).chunk(4, dim=-1)
        c = torch.sigmoid(forget_gate) * c + torch.sigmoid(in_gate) * torch.tanh(cell_gate)
        h = torch.sigmoid(out_gate) * torch.tanh(c)
        column = theta.unsqueeze(-1)
        i = torch.sigmoid(self.input_gate(torch.cat([h, column, i_prev], dim=-1)))
        f = torch.sigmoid(self.forget_gate(torch.cat([h, column, f_prev], dim=-1)))
        update = (f - 1).squeeze(-1) * theta - i.squeeze(-1) * grad
        return update, (h, c, i, f)


def meta_lstm(net: MetaLSTMNet) -> UpdateRule:
    """The update rule of a :class:`MetaLSTMNet` over all parameters at once (their coordinates
    concatenated, one network call a step); it reads the loss value."""

    def init(params: Params) -> tuple[torch.Tensor, ...]:
        first = next(iter(params.values()))
        return net.initial_state(sum(p.numel() for p in params.values()), first)

    def update(grads: Params, state: tuple, params: Params, loss: torch.Tensor) -> tuple[Params, tuple]:
        flat_grad = torch.cat([g.reshape(-1) for g in grads.values()])
        flat_theta = torch.cat([params[k].reshape(-1) for k in grads])
        flat_update, state = net(flat_grad, loss, flat_theta, state)
        updates, start = {}, 0
        for k, g in grads.items():
            updates[k] = flat_update[start:start + g.numel()].view_as(g)
            start += g.numel()
        return updates, state

    return UpdateRule(init, update, uses_loss=True)
