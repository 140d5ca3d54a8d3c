"""Loss curves of optimizers on fixed optimizee problems: a learned optimizer beside torch.optim's.

Every optimizer starts each problem from the same point, the learned optimizer's
``initial_params``, and is scored by the problem's objective after each step, per problem, so
curves are compared on identical problems and starts (Andrychowicz et al. 2016, Figs. 2-4).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from metalab.algorithms.gradient.l2o import L2O
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.stream import fixed_tasks

MakeOptimizer = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def learned_curve(learner: L2O, batch: Episode, steps: int) -> torch.Tensor:
    """``[steps + 1, T]`` objectives along the learned optimizer's trajectory (step 0: the start)."""
    start = learner.task_losses(learner.initial_params(batch.support_x), batch.support_x, batch.support_y)
    *_, (losses, _) = learner.trajectory(batch, steps, meta=False, truncation=None)
    return torch.cat([start[None], losses]).detach()


def torch_curve(
    learner: L2O, batch: Episode, steps: int, make_optimizer: MakeOptimizer, *, full_batch: bool = False,
) -> torch.Tensor:
    """``[steps + 1, T]`` objectives along a ``torch.optim`` optimizer's trajectory from the same
    starts (the tasks are optimised together; the optimizers are elementwise, so each task's
    trajectory is its own). Each step's gradient is taken on the same minibatch the learned
    optimizer draws at that step (``learner.objective``: the paper's minibatches of 128 for every
    optimizer), or on the whole support set with ``full_batch``; the objective recorded is the
    whole support set's, as in :func:`learned_curve`."""
    x, y = batch.support_x, batch.support_y
    params = {k: v.clone().requires_grad_() for k, v in learner.initial_params(x).items()}
    objective = (lambda p: learner.task_losses(p, x, y)) if full_batch else learner.objective(batch)
    optimizer = make_optimizer(list(params.values()))
    curve = []
    for step in range(steps + 1):
        with torch.no_grad():
            curve.append(learner.task_losses(params, x, y))
        if step < steps:
            optimizer.zero_grad()
            objective(params).sum().backward()
            optimizer.step()
    return torch.stack(curve)


def loss_curves(
    learner: L2O, tasks: TaskFamily, steps: int, *, make_optimizer: MakeOptimizer | None = None,
    seed: int = 0, count: int = 600, batch: int = 50, full_batch: bool = False,
) -> torch.Tensor:
    """``[count, steps + 1]`` objectives on fixed problems ``0..count-1`` of ``tasks``, for the
    learned optimizer (``make_optimizer`` None) or a ``torch.optim`` one (gradients on the
    learned optimizer's minibatches, or on the whole support set with ``full_batch``)."""
    curves = []
    with torch.no_grad():
        for episode in fixed_tasks(tasks, TaskShape(None, 1, 1), seed=seed, count=count, batch=batch):
            with torch.enable_grad():
                curve = (learned_curve(learner, episode, steps) if make_optimizer is None
                         else torch_curve(learner, episode, steps, make_optimizer, full_batch=full_batch))
            curves.append(curve.T.double())
    return torch.cat(curves)
