"""A/B of the max-pool backward's scatter inside one MAML meta-step, alternating in one process.

``out_of_place``: ``zeros.scatter_add(...)`` (allocates, fills, then copies the zeros before
scattering); ``in_place``: ``zeros.scatter_add_(...)`` on the fresh zeros (what
:mod:`metalab.models.pooling` does outside vmap). The step is ``benchmarks/maml_speed.py``'s
(meta-batch 32, 5-way 1-shot, 15 queries, 1 inner step of 0.4, worker threads), timed
alternately so that machine noise falls on both alike.

    taskset -c 0,1 python benchmarks/maml_pool_ab.py --threads 2 --rounds 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import metalab.models.pooling as pooling


def out_of_place(like, shape, dim, index, src):
    return like.new_zeros(shape).scatter_add(dim, index, src)


def make_step(tasks: int):
    """maml_speed.py's MAML step (benchmarks/ is on the path when this runs as a script)."""
    from maml_speed import make_step as maml_speed_step

    shape = argparse.Namespace(meta_batch=tasks, ways=5, shots=1, queries=15, inner_lr=0.4, steps=1)
    return maml_speed_step("metalab_maml", shape)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--meta-batch", type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    variants = {"out_of_place": (make_step(a.meta_batch), out_of_place),
                "in_place": (make_step(a.meta_batch), pooling._scatter_add_into_zeros)}
    times: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(a.rounds + 1):  # round 0 warms up
        for name, (step, scatter) in variants.items():
            pooling._scatter_add_into_zeros = scatter
            start = time.perf_counter()
            step()
            if r:
                times[name].append(time.perf_counter() - start)
    median = {k: round(statistics.median(v), 4) for k, v in times.items()}
    print(json.dumps({"median_s": median, "speedup_in_place": round(median["out_of_place"] / median["in_place"], 3),
                      "rounds": a.rounds, "threads": a.threads, "meta_batch": a.meta_batch, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
