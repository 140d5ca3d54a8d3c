"""Task-Agnostic Meta-Learning (Jamal & Qi, CVPR 2019): MAML plus a regularizer that keeps
the initial model from favouring some tasks over others.

``regularizer="entropy"`` (entropy-reduction TAML, Eq. 2 and Algorithm 1): the initial
model should be maximally uncertain on a task's inputs, and adaptation should reduce that
uncertainty, ``R = mean_i [ -H(f_theta) + (H(f_theta'_i) - H(f_theta)) ]`` with
``H(f) = mean_x -sum_n p_n(x) log p_n(x)`` over the task's query inputs x
(classification only).

``regularizer="theil"`` (inequality-minimization TAML, Sec. 3.2, Algorithm 2): the losses
of the initial model on the tasks of a meta-batch, ``l_i = L_Ti(f_theta)`` on their support
sets, should be equal; their inequality is measured by the Theil index
``T = 1/M sum_i (l_i / mean(l)) ln(l_i / mean(l))`` (zero when all are equal).

The meta-loss is ``mean_i L_Ti(f_theta'_i) + weight * R`` (Algorithms 1 and 2); metrics
report the query loss alone as ``query_loss`` and the regularizer's value.
"""

from __future__ import annotations

import dataclasses

import torch
from torch.func import functional_call

from metalab.algorithms.base import MetaLoss
from metalab.algorithms.gradient.maml import MAML, MAMLConfig
from metalab.checks import fail, option
from metalab.tasks.episode import Episode

REGULARIZERS = ("entropy", "theil")


@dataclasses.dataclass(frozen=True)
class TAMLConfig(MAMLConfig):
    """:class:`MAMLConfig` plus ``regularizer`` (``entropy`` or ``theil``) and its ``weight``."""

    regularizer: str = option("entropy", choices=REGULARIZERS)
    weight: float = option(0.1, minimum=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.regularizer == "entropy" and self.loss != "cross_entropy":
            fail("TAML's entropy regularizer needs class labels (loss=cross_entropy); set "
                 "regularizer=theil for regression", "regularizer")


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean predictive entropy ``mean_x -sum_n p_n log p_n`` of ``[..., Q, N]`` logits -> ``[...]``."""
    log_p = logits.log_softmax(-1)
    return -(log_p.exp() * log_p).sum(-1).mean(-1)


def entropy_reduction(initial_entropy: torch.Tensor, adapted_entropy: torch.Tensor) -> torch.Tensor:
    """``mean_i [ -H_i(f_theta) + (H_i(f_theta'_i) - H_i(f_theta)) ]`` from ``[T]`` entropies."""
    return (-initial_entropy + (adapted_entropy - initial_entropy)).mean()


def theil_index(losses: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Theil index ``1/M sum_i (l_i / mean) ln(l_i / mean)`` of ``[M]`` positive losses."""
    ratio = losses / losses.mean().clamp(min=eps)
    return (ratio * torch.log(ratio.clamp(min=eps))).mean()


class TAML(MAML):
    """MAML with TAML's entropy-reduction or Theil-index regularizer."""

    name = "taml"
    Config = TAMLConfig
    unsupported = frozenset({"per_step_bn"})  # its regularizer reads the initial model's own norms

    def task_objective(self, batch: Episode) -> MetaLoss:
        losses, outputs = self.query_losses(batch)
        theta = dict(self.model.named_parameters())
        if self.config.regularizer == "entropy":
            initial = torch.stack([entropy(functional_call(self.model, theta, (x,))) for x in batch.query_x])
            regularizer = entropy_reduction(initial, entropy(outputs))
        else:
            regularizer = theil_index(torch.stack([
                self.task_loss(functional_call(self.model, theta, (x,)), y) for x, y in zip(batch.support_x, batch.support_y)
            ]))
        metrics = {"query_loss": losses.mean().item(), self.config.regularizer: regularizer.item()}
        return MetaLoss(loss=losses.mean() + self.config.weight * regularizer, outputs=outputs.detach(), metrics=metrics)
