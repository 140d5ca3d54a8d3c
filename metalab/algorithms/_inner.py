"""The functional inner loop shared by the optimization-based learners, and its update rules.

Parameters are dicts ``name -> tensor``; a module is evaluated on any such dict with
:func:`torch.func.functional_call`, so any ``nn.Module`` without buffers can be adapted
without rewriting it. One inner loop serves meta-training and evaluation.

Update rules are optax-style pairs with explicit state: ``state = rule.init(params)`` and
``updates, state = rule.update(grads, state, params)``; the new parameters are
``params + updates``. :func:`sgd` is MAML's fixed step (Finn et al. 2017, Eq. 1:
``theta' = theta - alpha * grad``), :func:`meta_sgd` Meta-SGD's learned per-parameter rates
(Li et al. 2017, Eq. 1: ``theta' = theta - alpha o grad``, ``o`` element-wise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

Params = dict[str, torch.Tensor]


class UpdateRule(NamedTuple):
    """An inner-loop optimizer: ``init(params) -> state``, ``update(grads, state, params) -> (updates, state)``."""

    init: Callable[[Params], Any]
    update: Callable[[Params, Any, Params], tuple[Params, Any]]


def sgd(lr: float) -> UpdateRule:
    """Plain gradient descent with one step size: ``updates = -lr * grads``."""

    def update(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        return {k: -lr * g for k, g in grads.items()}, state

    return UpdateRule(lambda params: (), update)


def meta_sgd(rates: Mapping[str, torch.Tensor]) -> UpdateRule:
    """Per-parameter learned rates (Meta-SGD): ``updates = -rates[name] * grads[name]``.

    ``rates`` has one tensor per adapted parameter, of its shape; they are meta-parameters,
    so the meta-gradient reaches them through the updates.
    """

    def update(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        return {k: -rates[k] * g for k, g in grads.items()}, state

    return UpdateRule(lambda params: (), update)


def task_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for integer labels ``[B]``, mean squared error for float targets ``[B, d]``."""
    if targets.is_floating_point():
        return F.mse_loss(outputs, targets)
    return F.cross_entropy(outputs, targets)


def inner_loop(
    model: nn.Module,
    params: Params,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    *,
    steps: int,
    rule: UpdateRule,
    adapted: Callable[[str], bool] = lambda name: True,
    first_order: bool = False,
    functional: bool = False,
) -> Params:
    """``steps`` gradient steps of ``rule`` on the support loss; returns the adapted parameters.

    Args:
        model: evaluated as ``functional_call(model, params, x)``.
        params: the starting point theta (usually the learner's own parameters).
        support_x, support_y: one task's support set.
        adapted: which parameters the inner loop changes (ANIL: the head only); the others
            pass through unchanged.
        first_order: detach the inner gradients (first-order MAML): the meta-gradient then
            treats ``d theta' / d theta`` as the identity.
        functional: take the inner gradients with :func:`torch.func.grad`, which composes
            with :func:`torch.func.vmap` over tasks (set it when vmapping this function).

    Otherwise the inner gradients come from ``torch.autograd.grad(create_graph=True)``, which
    threads may call at once (functorch's transform levels are global: two threads in
    ``torch.func.grad`` at once trip an internal assert). Either way outer autograd
    differentiates through them, so the meta-gradient is exact (second order) unless
    ``first_order``.
    """
    names = [k for k in params if adapted(k)]
    state = rule.init({k: params[k] for k in names})

    def support_loss(fast: Params, fixed: Params) -> torch.Tensor:
        return task_loss(functional_call(model, {**fixed, **fast}, (support_x,)), support_y)

    def support_grads(fast: Params, fixed: Params) -> Params:
        if functional:
            return torch.func.grad(support_loss)(fast, fixed)
        loss = support_loss(fast, fixed)
        return dict(zip(fast, torch.autograd.grad(loss, list(fast.values()), create_graph=not first_order)))

    for _ in range(steps):
        fast = {k: params[k] for k in names}
        grads = support_grads(fast, {k: v for k, v in params.items() if k not in fast})
        if first_order:
            grads = {k: g.detach() for k, g in grads.items()}
        updates, state = rule.update(grads, state, fast)
        params = {**params, **{k: fast[k] + u for k, u in updates.items()}}
    return params


class AdaptedModel:
    """phi: a module evaluated on one task's adapted parameters (no state on the learner).

    ``phi(query_x) -> [Q, ways]`` logits (or ``[Q, d]`` regression outputs).
    """

    def __init__(self, model: nn.Module, params: Params) -> None:
        self.model, self.params = model, params

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, self.params, (query_x,))
