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

import torch

from maml_speed import make_step, median_seconds  # benchmarks/ is on the path when run as a script

from metalab import tune_allocator


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
    shape = argparse.Namespace(meta_batch=a.tasks, ways=5, shots=1, queries=15, inner_lr=0.4, steps=1)
    seconds = median_seconds(make_step("metalab_maml", shape), a.reps)  # workers: one per thread
    print(json.dumps({"tasks": a.tasks, "workers": a.workers, "allocator": a.allocator, "median_s": round(seconds, 4)}))


if __name__ == "__main__":
    main()
