"""Times PyTorch's CPU 2x2 max-pool and metalab's (``metalab.models.pooling``) on one thread.

``[75, 64, 28, 28]`` (a task's 75 queries after Conv-4's first conv), median of 20 runs:
PyTorch's forward in the default (NCHW) and channels-last formats, its backward in each,
and metalab's ``max_pool2`` forward + backward on a channels-last input.
Usage: taskset -c 0 python benchmarks/pool_speed.py
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from metalab.models.pooling import max_pool2


def median_ms(fn, reps: int = 20) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main() -> None:
    torch.set_num_threads(1)
    x = torch.randn(75, 64, 28, 28)
    for name, inp in (("nchw", x), ("channels_last", x.contiguous(memory_format=torch.channels_last))):
        inp = inp.detach().requires_grad_()
        y = F.max_pool2d(inp, 2)
        g = torch.ones_like(y)
        print(f"torch {name}: forward {median_ms(lambda: F.max_pool2d(inp, 2))} ms, "
              f"backward {median_ms(lambda: torch.autograd.grad(y, inp, g, retain_graph=True))} ms")
    inp = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    y = max_pool2(inp)
    g = torch.ones_like(y)
    print(f"metalab channels_last: forward {median_ms(lambda: max_pool2(inp))} ms, "
          f"backward {median_ms(lambda: torch.autograd.grad(y, inp, g, retain_graph=True))} ms")


if __name__ == "__main__":
    main()
