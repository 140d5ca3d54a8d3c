"""Losses of task-model outputs, by the name a family or a learner's config gives."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits ``[..., Q, N]`` against integer labels ``[..., Q]``."""
    return F.cross_entropy(outputs.flatten(0, -2), targets.flatten())


def mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error of outputs and float targets of the same shape."""
    return F.mse_loss(outputs, targets)


def sum_squares(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Squared error summed over a task's points (an objective ``||W theta - y||^2``), averaged
    over tasks: ``[..., Q, d]`` -> scalar."""
    return (outputs - targets).pow(2).flatten(-2).sum(-1).mean()


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "sum_squares": sum_squares,
}
