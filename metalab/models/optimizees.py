"""Optimizee models for learned optimizers: functions of explicit parameters, batched over tasks.

A learned optimizer trains a *fresh* model per task (the optimizee), so its parameters are
not the learner's; they are plain tensors with a leading task dimension, created by ``init``
and evaluated by ``forward(params, x)`` with ``x [T, Q, in]`` -> ``[T, Q, out]``.

- ``linear``: ``x theta^T`` without bias (Andrychowicz et al. 2016's quadratics).
- ``mlp``: one hidden layer of sigmoid units and a linear output (their MNIST optimizee).
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


def _mlp_init(tasks: int, in_features: int, hidden: int, outputs: int, generator: torch.Generator) -> Params:
    return {"w1": _uniform((tasks, hidden, in_features), in_features, generator),
            "b1": _uniform((tasks, 1, hidden), in_features, generator),
            "w2": _uniform((tasks, outputs, hidden), hidden, generator),
            "b2": _uniform((tasks, 1, outputs), hidden, generator)}


def _mlp(params: Params, x: torch.Tensor) -> torch.Tensor:
    h = torch.sigmoid(torch.bmm(x, params["w1"].transpose(1, 2)) + params["b1"])
    return torch.bmm(h, params["w2"].transpose(1, 2)) + params["b2"]


OPTIMIZEES: dict[str, Optimizee] = {"linear": Optimizee(_linear_init, _linear), "mlp": Optimizee(_mlp_init, _mlp)}
