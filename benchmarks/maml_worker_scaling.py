"""How MAML's worker threads scale: seconds per meta-step of ``--tasks`` tasks with ``--workers``
worker threads (each runs one PyTorch thread), the step of ``benchmarks/maml_speed.py``.

Compare two worker threads on 32 tasks with two single-threaded processes on 16 tasks each,
run at the same time on the two cores (the most that threads could reach):

    taskset -c 0 python benchmarks/maml_worker_scaling.py --tasks 16 --workers 1 &
    taskset -c 1 python benchmarks/maml_worker_scaling.py --tasks 16 --workers 1; wait
    taskset -c 0,1 python benchmarks/maml_worker_scaling.py --tasks 32 --workers 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from metalab import tune_allocator
from metalab.algorithms import build_learner
from metalab.tasks.episode import Episode


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--allocator", choices=("tuned", "default"), default="tuned", help="glibc malloc settings")
    a = p.parse_args()
    torch.set_num_threads(a.workers)
    if a.allocator == "tuned":
        tune_allocator()
    torch.manual_seed(0)
    n, k, q, t = 5, 1, 15, a.tasks
    labels = lambda m: torch.arange(n).repeat_interleave(m).expand(t, -1).contiguous()  # noqa: E731
    batch = Episode(torch.randn(t, n * k, 1, 28, 28), labels(k), torch.randn(t, n * q, 1, 28, 28), labels(q),
                    torch.arange(n).expand(t, -1))
    learner = build_learner("maml", {"outputs": n, "inner_lr": 0.4, "inner_steps": 1, "workers": a.workers})
    opt = torch.optim.Adam(learner.parameters(), 1e-3)
    times = []
    for r in range(a.reps + 1):  # the first step warms up
        start = time.perf_counter()
        opt.zero_grad()
        learner.meta_loss(batch).loss.backward()
        opt.step()
        if r:
            times.append(time.perf_counter() - start)
    print(json.dumps({"tasks": t, "workers": a.workers, "allocator": a.allocator, "median_s": round(statistics.median(times), 4)}))


if __name__ == "__main__":
    main()
