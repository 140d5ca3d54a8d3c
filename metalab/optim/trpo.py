"""Trust region policy optimization's update (Schulman et al. 2015, Sec. 6 and App. C).

``max_theta L(theta)`` subject to ``KL(theta_old, theta) <= delta``: the natural-gradient
direction ``x = H^-1 g`` comes from conjugate gradient on Hessian-vector products of the KL
(never forming ``H``), is scaled so that the quadratic model of the KL equals ``delta``
(``beta = sqrt(2 delta / x^T H x)``), then shrunk by a backtracking line search until the loss
improves and the true KL is within ``delta``. The loss and KL are closures of the current
parameter values (the MAML-RL outer loss runs the inner adaptation inside them), so the
same step serves any differentiable policy objective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch


@dataclasses.dataclass(frozen=True)
class TRPOStep:
    """What one step did: loss before and after, the KL of the accepted step (0 if none),
    the fraction of the full step taken, and whether the line search accepted a step."""

    loss_before: float
    loss_after: float
    kl: float
    fraction: float
    accepted: bool


def conjugate_gradient(matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int = 10,
                       tolerance: float = 1e-10) -> torch.Tensor:
    """Approximately solve ``A x = b`` for symmetric positive definite ``A`` given as ``matvec``."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tolerance:
            break
        ap = matvec(p)
        alpha = rr / (p @ ap)
        x, r = x + alpha * p, r - alpha * ap
        rr_new = r @ r
        p, rr = r + (rr_new / rr) * p, rr_new
    return x


def _flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def trpo_step(
    params: Sequence[torch.nn.Parameter],
    loss: Callable[[], torch.Tensor],
    kl: Callable[[], torch.Tensor],
    *,
    max_kl: float = 0.01,
    cg_iters: int = 10,
    damping: float = 1e-5,
    backtracks: int = 15,
    backtrack_ratio: float = 0.8,
    curvature: Callable[[], torch.Tensor] | None = None,
) -> TRPOStep:
    """Update ``params`` in place by one TRPO step on ``loss`` (to minimise) within ``kl <= max_kl``.

    ``kl()`` is ``KL(pi_old || pi_current)``, zero (with zero gradient) at the starting point;
    ``damping`` adds ``damping * I`` to its Hessian. ``curvature``: another KL whose Hessian
    at the start defines the metric (a cheaper approximation); the line search checks ``kl``.
    """
    params = list(params)
    start = [p.detach().clone() for p in params]
    value = loss()
    grad = _flat(torch.autograd.grad(value, params))
    kl_grads = _flat(torch.autograd.grad((curvature or kl)(), params, create_graph=True))

    def hvp(v: torch.Tensor) -> torch.Tensor:
        product = torch.autograd.grad(kl_grads @ v, params, retain_graph=True)
        return _flat(product) + damping * v

    direction = conjugate_gradient(hvp, -grad, cg_iters)
    curvature = direction @ hvp(direction)
    before = float(value.detach())
    if not curvature > 0:  # no usable direction (zero gradient)
        return TRPOStep(before, before, 0.0, 0.0, False)
    full_step = direction * torch.sqrt(2 * max_kl / curvature)

    def place(fraction: float) -> None:
        offset = 0
        with torch.no_grad():
            for p, p0 in zip(params, start):
                n = p.numel()
                p.copy_(p0 + fraction * full_step[offset:offset + n].view_as(p))
                offset += n

    for k in range(backtracks):
        fraction = backtrack_ratio ** k
        place(fraction)
        new_loss, new_kl = float(loss().detach()), float(kl().detach())
        if new_loss < before and new_kl <= max_kl:
            return TRPOStep(before, new_loss, new_kl, fraction, True)
    place(0.0)
    return TRPOStep(before, before, 0.0, 0.0, False)
