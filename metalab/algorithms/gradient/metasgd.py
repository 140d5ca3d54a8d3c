"""Meta-SGD (Li, Zhou, Chen & Li, 2017).

The inner step has a learned rate per parameter entry, meta-learned with the initialisation
(Eq. 1: ``theta'_i = theta - alpha o grad_theta L_Ti(f_theta)``, ``o`` element-wise; the
outer loop minimises the query loss over ``(theta, alpha)``, Eq. 2). The rates start at
``inner_lr`` (the paper draws them at random in a small range; a constant start equals MAML
at step 0). The update rule is :func:`metalab.optim.meta_sgd`.
"""

from __future__ import annotations

import torch
from torch import nn

from metalab.algorithms.gradient.maml import MAML, MAMLConfig, _key
from metalab.optim import UpdateRule, meta_sgd


class MetaSGD(MAML):
    """MAML with a learned inner learning rate for every parameter entry."""

    name = "metasgd"
    Config = MAMLConfig
    unsupported = frozenset({"learned_lrs"})  # its rates are per entry already

    def __init__(self, config: MAMLConfig | None = None) -> None:
        super().__init__(config)
        self.rates = nn.ParameterDict(
            {_key(k): nn.Parameter(torch.full_like(p, self.config.inner_lr)) for k, p in self.model.named_parameters()}
        )

    def inner_rule(self, outer: bool) -> UpdateRule:
        rates = {k: self.rates[_key(k)] for k, _ in self.model.named_parameters() if self._inner_changes(k)}
        if not outer:
            rates = {k: r.detach() for k, r in rates.items()}
        return meta_sgd(rates)
