"""Update rules in the style of optax's gradient transformations: values that compose.

A rule is a pair with explicit state: ``state = rule.init(params)`` and
``updates, state = rule.update(grads, state, params)``; the new parameters are
``params + updates``. :func:`chain` applies rules one after another, each transforming the
previous one's output, so variants are built by composition:
``sgd(lr) == chain(scale(-lr))`` is MAML's fixed step (Finn et al. 2017, Eq. 1:
``theta' = theta - alpha * grad``) and ``meta_sgd(rates) == chain(scale_by(rates), scale(-1))``
Meta-SGD's learned per-parameter rates (Li et al. 2017, Eq. 1: ``theta' = theta - alpha o grad``).
A rule whose numbers are tensors with ``requires_grad`` (learned rates, a learned
optimizer's weights) is meta-learned through the updates it produces. A rule that reads the
loss value too (the LSTM meta-learner's gates, Ravi & Larochelle 2017) sets ``uses_loss``
and is called as ``rule.update(grads, state, params, loss)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch

Params = dict[str, torch.Tensor]


class UpdateRule(NamedTuple):
    """An optimizer as two functions: ``init(params) -> state`` and
    ``update(grads, state, params) -> (updates, state)``; with ``uses_loss``, ``update`` takes
    the loss value (a scalar tensor) as a fourth argument."""

    init: Callable[[Params], Any]
    update: Callable[..., tuple[Params, Any]]
    uses_loss: bool = False


def apply_rule(rule: UpdateRule, grads: Params, state: Any, params: Params, loss: torch.Tensor | None) -> tuple[Params, Any]:
    """``rule.update`` with the loss value passed on to a rule that reads it."""
    if rule.uses_loss:
        if loss is None:
            raise ValueError("this update rule reads the loss value; pass it (inner_loop does)")
        return rule.update(grads, state, params, loss)
    return rule.update(grads, state, params)


def _stateless(transform: Callable[[Params], Params]) -> UpdateRule:
    return UpdateRule(lambda params: (), lambda grads, state, params: (transform(grads), state))


def scale(factor: float) -> UpdateRule:
    """``updates = factor * grads`` (one number for every parameter)."""
    return _stateless(lambda grads: {k: factor * g for k, g in grads.items()})


def scale_by(factors: Mapping[str, torch.Tensor]) -> UpdateRule:
    """``updates[name] = factors[name] * grads[name]`` (element-wise, one tensor per parameter)."""
    return _stateless(lambda grads: {k: factors[k] * g for k, g in grads.items()})


def sgd(lr: float) -> UpdateRule:
    """Plain gradient descent with one step size: ``updates = -lr * grads``."""
    return scale(-lr)


def meta_sgd(rates: Mapping[str, torch.Tensor]) -> UpdateRule:
    """Meta-SGD: ``updates = -rates[name] * grads[name]``, the rates meta-parameters of the
    shape of their parameters."""
    return _stateless(lambda grads: {k: -rates[k] * g for k, g in grads.items()})


def per_step_sgd(rates: Mapping[str, torch.Tensor]) -> UpdateRule:
    """MAML++'s learned per-layer per-step rates (Antoniou et al. 2019, Sec. 4, LSLR): at inner
    step ``i``, ``updates[name] = -rates[name][i] * grads[name]``, ``rates[name]`` a vector over
    the steps it was trained for; later steps (more steps at test time) reuse the last rate.
    The state is the step's index."""

    def update(grads: Params, step: int, params: Params) -> tuple[Params, int]:
        return {k: -rates[k][min(step, len(rates[k]) - 1)] * g for k, g in grads.items()}, step + 1

    return UpdateRule(lambda params: 0, update)


def chain(*rules: UpdateRule) -> UpdateRule:
    """The rules applied in order, each to the previous one's updates; state is a tuple of theirs."""

    def init(params: Params) -> tuple:
        return tuple(rule.init(params) for rule in rules)

    def update(grads: Params, state: tuple, params: Params, loss: torch.Tensor | None = None) -> tuple[Params, tuple]:
        new_state = []
        for rule, inner in zip(rules, state):
            grads, inner = apply_rule(rule, grads, inner, params, loss)
            new_state.append(inner)
        return grads, tuple(new_state)

    return UpdateRule(init, update, uses_loss=any(rule.uses_loss for rule in rules))
