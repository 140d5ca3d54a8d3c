"""Reptile (Nichol, Achiam & Schulman, 2018).

For each task, ``inner_steps`` plain SGD steps on the support set from theta give phi_i; the
outer update moves theta towards them, ``theta <- theta + eps * mean_i (phi_i - theta)``
(Algorithm 2, batched). No derivative flows through the inner loop. ``meta_loss`` returns the
surrogate ``mean_i 0.5 * ||theta - phi_i.detach()||^2``, whose gradient is
``theta - mean_i phi_i``, so the shared training loop (Adam included) drives the update: with
plain SGD at learning rate eps it is exactly Reptile's step. Its metrics report the adapted
models' query loss (``query_loss``); the task family scores their outputs.
"""

from __future__ import annotations

import dataclasses

import torch

from metalab.algorithms.base import MetaLoss
from metalab.algorithms.gradient.maml import MAML, AdaptedModel, MAMLConfig
from metalab.optim import Params
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class ReptileConfig(MAMLConfig):
    """:class:`MAMLConfig` with Reptile's longer inner loop (5 steps, more at evaluation)."""

    inner_steps: int = 5
    inner_lr: float = 0.1
    eval_inner_steps: int | None = 10


def reptile_surrogate(theta: Params, phis: list[Params]) -> torch.Tensor:
    """``mean_i 0.5 * sum_k ||theta[k] - phi_i[k]||^2``; its gradient is ``theta - mean_i phi_i``."""
    return torch.stack(
        [sum(0.5 * (theta[k] - phi[k].detach()).pow(2).sum() for k in theta) for phi in phis]
    ).mean()


class Reptile(MAML):
    """Reptile: move the initialisation towards each task's adapted weights."""

    name = "reptile"
    Config = ReptileConfig
    # Its meta-gradient is theta - phi, not a query loss through the inner steps.
    unsupported = frozenset({"multi_step_loss", "per_step_bn", "learned_lrs", "first_order_until"})

    def task_objective(self, batch: Episode) -> MetaLoss:
        phis, outputs, losses = [], [], []
        for t in range(batch.tasks):
            phi = self.fast_weights(batch.support_x[t], batch.support_y[t], steps=self.config.inner_steps, outer=False)
            with torch.no_grad():
                out = AdaptedModel(self.model, phi)(batch.query_x[t])
            phis.append(phi)
            outputs.append(out)
            losses.append(self.task_loss(out, batch.query_y[t]))
        return MetaLoss(
            loss=reptile_surrogate(dict(self.model.named_parameters()), phis), outputs=torch.stack(outputs),
            metrics={"query_loss": torch.stack(losses).mean().item()},
        )
