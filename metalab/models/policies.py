"""A Gaussian MLP policy with functional parameters (Finn et al. 2017, RL experiments).

``pi(a | s) = N(mu_theta(s), diag(exp(log_std)^2))``: an MLP of ReLU layers (2 x 100) gives
the mean, and a learned, state-independent log standard deviation the spread. The
parameters may carry a leading task dimension ``T`` (one adapted policy per task): every
function here then takes observations ``[T, N, obs]``; unbatched parameters take ``[N, obs]``.
Biases and ``log_std`` are stored as ``[1, d]`` rows so that both forms broadcast.
"""

from __future__ import annotations

import math

import torch
from torch import nn

Params = dict[str, torch.Tensor]


class GaussianMLP(nn.Module):
    """The policy's parameters (``w0, b0, ..., log_std``) and its functional forward."""

    def __init__(self, observations: int = 2, actions: int = 2, hidden: int = 100, layers: int = 2,
                 init_std: float = 1.0) -> None:
        super().__init__()
        sizes = [observations, *[hidden] * layers, actions]
        self.depth = len(sizes) - 1
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            weight = torch.empty(a, b)
            nn.init.xavier_uniform_(weight)
            self.register_parameter(f"w{i}", nn.Parameter(weight))
            self.register_parameter(f"b{i}", nn.Parameter(torch.zeros(1, b)))
        self.log_std = nn.Parameter(torch.full((1, actions), math.log(init_std)))

    def mean(self, params: Params, observations: torch.Tensor) -> torch.Tensor:
        """``mu_theta(s)``: ``[(T,) N, obs]`` -> ``[(T,) N, act]``."""
        h = observations
        for i in range(self.depth):
            h = h @ params[f"w{i}"] + params[f"b{i}"]
            if i < self.depth - 1:
                h = torch.relu(h)
        return h

    def log_prob(self, params: Params, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``log pi(a | s)`` summed over action dimensions: ``[(T,) N]``."""
        mean, log_std = self.mean(params, observations), params["log_std"]
        z = (actions - mean) * torch.exp(-log_std)
        return (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def kl(self, old: Params, new: Params, observations: torch.Tensor) -> torch.Tensor:
        """``KL(pi_old(.|s) || pi_new(.|s))`` of the diagonal Gaussians: ``[(T,) N]``."""
        mean_old, mean_new = self.mean(old, observations), self.mean(new, observations)
        log_old, log_new = old["log_std"], new["log_std"]
        var_ratio = torch.exp(2 * (log_old - log_new))
        diff = (mean_old - mean_new) * torch.exp(-log_new)
        return (0.5 * (var_ratio + diff.pow(2) - 1) + log_new - log_old).sum(-1)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """The mean action of the module's own parameters."""
        return self.mean(dict(self.named_parameters()), observations)
