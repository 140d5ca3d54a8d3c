"""Optimizee models for learned optimizers: functions of explicit parameters, batched over tasks.

A learned optimizer trains a *fresh* model per task (the optimizee), so its parameters are
not the learner's; they are plain tensors with a leading task dimension, created by ``init``
and evaluated by ``forward(params, x)`` with ``x [T, Q, in]`` -> ``[T, Q, out]``.

- ``linear``: ``x theta^T`` without bias (Andrychowicz et al. 2016's quadratics).
- ``mlp``: one hidden layer of sigmoid units and a linear output (their MNIST optimizee).
- ``mlp2``, ``mlp-relu``: two sigmoid hidden layers, or one of ReLU units: the architectures
  their Sec. 3.2 uses to test whether an optimizer trained on ``mlp`` generalises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

Params = dict[str, torch.Tensor]


class Optimizee(NamedTuple):
    """``init(tasks, in_features, hidden, outputs, generator) -> params``; ``forward(params, x) -> outputs``."""

    init: Callable[[int, int, int, int, torch.Generator], Params]
    forward: Callable[[Params, torch.Tensor], torch.Tensor]


def _linear_init(tasks: int, in_features: int, hidden: int, outputs: int, generator: torch.Generator) -> Params:
    return {"weight": torch.randn(tasks, outputs, in_features, generator=generator)}


def _linear(params: Params, x: torch.Tensor) -> torch.Tensor:
    return torch.bmm(x, params["weight"].transpose(1, 2))


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> torch.Tensor:
    bound = 1 / math.sqrt(fan_in)  # PyTorch's default for nn.Linear
    return (torch.rand(*shape, generator=generator) * 2 - 1) * bound


def mlp(depth: int, activation: Callable[[torch.Tensor], torch.Tensor]) -> Optimizee:
    """``depth`` hidden layers of ``hidden`` units with ``activation``, then a linear output;
    layer ``i`` (from 1) has parameters ``w{i}`` ``[T, out, in]`` and ``b{i}`` ``[T, 1, out]``."""

    def init(tasks: int, in_features: int, hidden: int, outputs: int, generator: torch.Generator) -> Params:
        sizes = [in_features] + [hidden] * depth + [outputs]
        params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            params[f"w{i}"] = _uniform((tasks, fan_out, fan_in), fan_in, generator)
            params[f"b{i}"] = _uniform((tasks, 1, fan_out), fan_in, generator)
        return params

    def forward(params: Params, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, depth + 1):
            x = activation(torch.bmm(x, params[f"w{i}"].transpose(1, 2)) + params[f"b{i}"])
        last = depth + 1
        return torch.bmm(x, params[f"w{last}"].transpose(1, 2)) + params[f"b{last}"]

    return Optimizee(init, forward)


OPTIMIZEES: dict[str, Optimizee] = {
    "linear": Optimizee(_linear_init, _linear),
    "mlp": mlp(1, torch.sigmoid),
    "mlp2": mlp(2, torch.sigmoid),
    "mlp-relu": mlp(1, torch.relu),
}
