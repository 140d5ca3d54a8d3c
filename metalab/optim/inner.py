"""The functional inner loop: gradient steps of an update rule on a loss closure.

Parameters are dicts ``name -> tensor``. The loss is any function of such a dict (a support
set's cross-entropy through :func:`torch.func.functional_call`, a policy-gradient
surrogate, an optimizee's objective), so one inner loop serves every optimization-based
learner, in meta-training and in evaluation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from metalab.optim.rules import Params, UpdateRule, apply_rule


def inner_loop(
    loss: Callable[..., torch.Tensor],
    params: Params,
    *,
    steps: int,
    rule: UpdateRule,
    adapted: Callable[[str], bool] = lambda name: True,
    first_order: bool = False,
    functional: bool = False,
    stepwise: bool = False,
) -> Params:
    """``steps`` steps of ``rule`` on ``loss(params)``; returns the adapted parameters.

    Args:
        loss: the objective, a scalar function of the full parameter dict (with ``stepwise``,
            ``loss(params, step)``: the step's index ``0..steps-1`` too, for per-step weights
            such as MAML++'s per-step batch norm).
        params: the starting point theta (usually a learner's own parameters).
        adapted: which parameters the loop changes (ANIL: the head only); the others pass
            through unchanged.
        first_order: detach the inner gradients (first-order MAML): the meta-gradient then
            treats ``d theta' / d theta`` as the identity.
        functional: take the gradients with :func:`torch.func.grad`, which composes with
            :func:`torch.func.vmap` over tasks (set it when vmapping this function).

    Otherwise the gradients come from ``torch.autograd.grad(create_graph=True)``, which
    threads may call at once (functorch's transform levels are global: two threads in
    ``torch.func.grad`` at once trip an internal assert). Either way outer autograd
    differentiates through the steps, so the meta-gradient is exact (second order) unless
    ``first_order``.
    """
    return inner_path(loss, params, steps=steps, rule=rule, adapted=adapted, first_order=first_order,
                      functional=functional, stepwise=stepwise)[-1]


def inner_path(
    loss: Callable[..., torch.Tensor],
    params: Params,
    *,
    steps: int,
    rule: UpdateRule,
    adapted: Callable[[str], bool] = lambda name: True,
    first_order: bool = False,
    functional: bool = False,
    stepwise: bool = False,
) -> list[Params]:
    """:func:`inner_loop`'s parameters after every step: ``[theta_1, ..., theta_steps]``
    (MAML++'s multi-step loss scores the queries at each of them)."""
    names = [k for k in params if adapted(k)]
    state = rule.init({k: params[k] for k in names})

    def split_loss(fast: Params, fixed: Params, step: int) -> torch.Tensor:
        return loss({**fixed, **fast}, step) if stepwise else loss({**fixed, **fast})

    def gradients(fast: Params, fixed: Params, step: int) -> tuple[Params, torch.Tensor]:
        if functional:
            return torch.func.grad_and_value(split_loss)(fast, fixed, step)
        value = split_loss(fast, fixed, step)
        return dict(zip(fast, torch.autograd.grad(value, list(fast.values()), create_graph=not first_order))), value

    path = []
    for step in range(steps):
        fast = {k: params[k] for k in names}
        grads, value = gradients(fast, {k: v for k, v in params.items() if k not in fast}, step)
        if first_order:
            grads, value = {k: g.detach() for k, g in grads.items()}, value.detach()
        updates, state = apply_rule(rule, grads, state, fast, value)
        params = {**params, **{k: fast[k] + u for k, u in updates.items()}}
        path.append(params)
    return path
