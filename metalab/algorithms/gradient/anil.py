"""ANIL, Almost No Inner Loop (Raghu, Raghu, Bengio & Vinyals, ICLR 2020).

MAML whose inner loop adapts only the head (the final linear layer, parameters ``head.*``);
the body is meta-learned by the outer loop alone and shared by all tasks unchanged (Sec. 4,
``theta'_head = theta_head - alpha * grad_head L_Ti``). The meta-gradient is second order
through the head's steps.
"""

from __future__ import annotations

from metalab.algorithms.gradient.maml import MAML, MAMLConfig


class ANIL(MAML):
    """MAML with the inner loop on the head only."""

    name = "anil"
    Config = MAMLConfig

    def is_adapted(self, name: str) -> bool:
        return name.startswith("head.")
