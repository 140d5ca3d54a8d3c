"""How much of a ProtoNet training step goes to sampling and loading episodes.

Usage: METALAB_DATA=../shared/data python benchmarks/sampling_speed.py [--threads 2] [--steps 30] [--json]
       python benchmarks/sampling_speed.py --table results/speed/sampling/sampling.json

Times, in one run and interleaved, (a) drawing a meta-batch from an in-memory Omniglot split
and (b) a whole training step (sampling, meta-loss, backward, Adam) for a few task shapes, and
prints the median of each and their ratio (the sampling share of a step).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from metalab.algorithms import build_learner
from metalab.data.load import omniglot
from metalab.tasks.image import EpisodeStream

SHAPES = ((5, 1, 15, 32), (20, 5, 15, 1), (60, 5, 5, 1))  # ways, shots, queries, meta-batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--table", metavar="JSON", help="print the table of a saved --json output and stop")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(open(args.table, encoding="utf-8").read())))
        return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    dataset = omniglot("vinyals", "train")
    load_seconds = time.perf_counter() - start
    rows = []
    for ways, shots, queries, meta_batch in SHAPES:
        stream = EpisodeStream(dataset, ways, shots, queries, meta_batch, seed=0)
        learner = build_learner("protonet")
        optimizer = torch.optim.Adam(learner.parameters(), 1e-3)
        sample_times, step_times = [], []
        for i in range(args.steps + 3):
            t0 = time.perf_counter()
            batch = next(stream)
            t1 = time.perf_counter()
            loss = learner.meta_loss(batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            t2 = time.perf_counter()
            if i >= 3:  # warm-up
                sample_times.append(t1 - t0)
                step_times.append(t2 - t0)
        sample, step = statistics.median(sample_times), statistics.median(step_times)
        rows.append({"ways": ways, "shots": shots, "queries": queries, "meta_batch": meta_batch,
                     "sample_ms": round(1000 * sample, 3), "step_ms": round(1000 * step, 1),
                     "sample_share_percent": round(100 * sample / step, 3)})
    report = {"load_seconds": round(load_seconds, 2), "threads": args.threads, "rows": rows,
              "torch": torch.__version__, "machine": platform.machine(), "python": platform.python_version()}
    print(json.dumps(report) if args.json else table(report))


def table(report: dict) -> str:
    """The markdown table of one run's report (``--json`` output)."""
    lines = [f"loading and preprocessing Omniglot (32460 images): {report['load_seconds']:.2f} s, once per process",
             "| ways | shots | queries | meta-batch | sampling (ms) | training step (ms) | sampling share |",
             "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['ways']} | {r['shots']} | {r['queries']} | {r['meta_batch']} | {r['sample_ms']:.2f} | "
                     f"{r['step_ms']:.0f} | {r['sample_share_percent']:.2f}% |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
