"""A meta-batch's tasks computed in parallel threads, for meta-losses that are a mean over tasks.

On a CPU with a few cores, PyTorch's own threading splits each operation across the cores,
which pays little on MAML's small per-task batches (5 support images, 75 queries). Here each
of ``workers`` threads runs one thread of PyTorch on its own contiguous share of the tasks,
forward and backward, and the per-task gradients are summed in a fixed order, so the result
depends on the number of workers (float rounding) but not on thread timing.

The gradient reaches the shared training loop through a surrogate loss, ``L.detach() +
sum_p <p - p.detach(), g_p>``: its value is the mean query loss ``L`` and its gradient is
``g``, so ``loss.backward()`` and the outer optimizer work unchanged (the same device as
Reptile's surrogate, :mod:`metalab.algorithms.base`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import torch

TaskFn = Callable[[int], tuple[torch.Tensor, torch.Tensor]]  # task index -> (loss, outputs)


def default_workers(device: torch.device) -> int:
    """As many workers as PyTorch has CPU threads; 1 on a GPU, where threads do not help."""
    return 1 if device.type != "cpu" else torch.get_num_threads()


def parallel_mean_loss(
    make_task_fn: Callable[[], TaskFn], tasks: int, params: Sequence[torch.Tensor], workers: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean over ``tasks`` of ``task_fn(i)[0]``, with its gradient to ``params`` computed
    by ``workers`` threads, each with its own ``task_fn = make_task_fn()`` (a thread must not
    share a module that :func:`torch.func.functional_call` evaluates: it swaps the module's
    parameters in place while it runs).

    Returns ``(surrogate, outputs)``: the surrogate loss (value: the mean loss; gradient: the
    mean loss's gradient) and the tasks' detached outputs stacked ``[T, ...]``.
    """
    shares = [range(tasks * w // workers, tasks * (w + 1) // workers) for w in range(workers)]

    def work(share: range) -> tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
        torch.set_num_threads(1)  # this thread's own PyTorch threads
        task_fn = make_task_fn()
        grads = [torch.zeros_like(p) for p in params]
        losses, outputs = [], []
        for i in share:
            loss, output = task_fn(i)
            for total, g in zip(grads, torch.autograd.grad(loss / tasks, params, allow_unused=True)):
                if g is not None:
                    total += g
            losses.append(loss.detach())
            outputs.append(output.detach())
        return grads, torch.stack(losses), outputs

    with ThreadPoolExecutor(workers, thread_name_prefix="metalab-task") as pool:
        results = list(pool.map(work, [s for s in shares if len(s)]))
    grads = [sum(parts) for parts in zip(*(r[0] for r in results))]
    mean = torch.cat([r[1] for r in results]).mean()
    surrogate = mean + sum(((p - p.detach()) * g).sum() for p, g in zip(params, grads))
    return surrogate, torch.stack([o for r in results for o in r[2]])
