"""Seconds per MAML meta-step in metalab, beside a plain forward+backward over the same work.

Usage: python benchmarks/maml_speed.py [--ways 5] [--shots 1] [--queries 15] [--meta-batch 32]
           [--steps 1] [--inner-lr 0.4] [--reps 5] [--threads 2] [--allocator tuned|default]
           [--json] [--profile]

The configuration is that of ``../shared/bench/learn2learn/maml_speed.py`` : Conv-4
for 28x28 with batch norm on the current batch's statistics and a linear head, meta-batch 32
of 5-way 1-shot tasks with 15 queries per class, 1 inner step of size 0.4, Adam, random
inputs (speed only). Timed, each in its own process so that peak memory is its own:

- ``metalab_maml_s``: one ``meta_loss(batch).loss.backward()`` + Adam step of metalab's MAML
  (second order), median over ``--reps`` after a warm-up step;
- ``metalab_fomaml_s``: the same for first-order MAML;
- ``metalab_maml_1worker_s``: MAML with one worker (``workers=1``): the tasks one after
  another, each operation on all ``--threads`` threads (the default, ``workers=0``, shares
  the tasks among ``--threads`` workers of one thread each);
- ``metalab_maml_vmap_s``: MAML with the tasks vmapped (``vmap=True``);
- ``baseline_s``: the learn2learn harness's baseline, verbatim: per task, its support and
  query images through one forward and backward of an ``nn.Sequential`` Conv-4 (NCHW);
- ``baseline_channels_last_s``: that baseline in the channels-last memory format.

``--allocator tuned`` (the default) times every variant with glibc malloc tuned as the
``metalab`` command tunes it (:func:`metalab.tune_allocator`); ``default`` leaves malloc as it
starts. For a like-for-like comparison run the learn2learn harness with the same settings as
environment variables: ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TOP_PAD_=67108864
MALLOC_TRIM_THRESHOLD_=1073741824``.

With ``--json`` it prints one JSON object (seconds, ratios, peak resident memory per variant
in MB, configuration, machine). ``--profile`` prints where a MAML meta-step (one worker) spends its time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = ("metalab_maml", "metalab_fomaml", "metalab_maml_1worker", "metalab_maml_vmap", "baseline",
            "baseline_channels_last")


def conv4(ways: int) -> nn.Module:
    """The learn2learn harness's model, verbatim."""

    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1),
                             nn.BatchNorm2d(c_out, track_running_stats=False),
                             nn.ReLU(), nn.MaxPool2d(2))

    return nn.Sequential(block(1, 64), block(64, 64), block(64, 64), block(64, 64),
                         nn.Flatten(), nn.Linear(64, ways))


def median_seconds(step, reps: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_step(variant: str, a: argparse.Namespace):
    from metalab.algorithms import Runtime, build_learner
    from metalab.tasks.episode import Episode

    torch.manual_seed(0)
    T, N, K, Q = a.meta_batch, a.ways, a.shots, a.queries
    xs = torch.randn(T, N * K, 1, 28, 28)
    ys = torch.arange(N).repeat_interleave(K).expand(T, -1)
    xq = torch.randn(T, N * Q, 1, 28, 28)
    yq = torch.arange(N).repeat_interleave(Q).expand(T, -1)
    if variant.startswith("baseline"):
        model = conv4(N)
        if variant == "baseline_channels_last":
            model = model.to(memory_format=torch.channels_last)
            xs, xq = (x.contiguous(memory_format=torch.channels_last) for x in (xs.flatten(0, 1), xq.flatten(0, 1)))
            xs, xq = xs.view(T, N * K, 1, 28, 28), xq.view(T, N * Q, 1, 28, 28)
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step():
            opt.zero_grad()
            for t in range(T):
                x = torch.cat([xs[t], xq[t]])
                y = torch.cat([ys[t], yq[t]])
                (F.cross_entropy(model(x), y) / T).backward()
            opt.step()

        return step
    name = "fomaml" if variant == "metalab_fomaml" else "maml"
    learner = build_learner(name, {"outputs": N, "inner_lr": a.inner_lr, "inner_steps": a.steps})
    learner.runtime = Runtime(vmap=variant == "metalab_maml_vmap", workers=1 if variant == "metalab_maml_1worker" else 0)
    batch = Episode(xs, ys.contiguous(), xq, yq.contiguous(), torch.arange(N).expand(T, -1))
    opt = torch.optim.Adam(learner.parameters(), 1e-3)

    def step():
        opt.zero_grad()
        learner.meta_loss(batch).loss.backward()
        opt.step()

    return step


def setup(a: argparse.Namespace) -> None:
    from metalab import tune_allocator

    torch.set_num_threads(a.threads)
    if a.allocator == "tuned" and not tune_allocator():
        raise SystemExit("--allocator tuned needs glibc; use --allocator default")


def run_variant(variant: str, a: argparse.Namespace) -> dict:
    """Time one variant in this process; its peak resident memory is this process's."""
    setup(a)
    seconds = median_seconds(make_step(variant, a), a.reps)
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def profile(a: argparse.Namespace) -> None:
    """Op self-times of one MAML meta-step with one worker: the profiler records only the
    calling thread, so the default (tasks shared among worker threads) would show nothing but
    the surrogate's sum and Adam."""
    setup(a)
    step = make_step("metalab_maml_1worker", a)
    step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--shots", type=int, default=1)
    p.add_argument("--queries", type=int, default=15)
    p.add_argument("--meta-batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--inner-lr", type=float, default=0.4)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--allocator", choices=("tuned", "default"), default="tuned", help="glibc malloc settings")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset to time")
    p.add_argument("--json", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--only", choices=VARIANTS, help=argparse.SUPPRESS)  # child process
    a = p.parse_args()
    if a.only:
        print(json.dumps(run_variant(a.only, a)))
        return
    if a.profile:
        profile(a)
        return
    config = {k: v for k, v in vars(a).items() if k not in ("json", "profile", "only", "variants")}
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in config.items()]
    results = {}
    for variant in a.variants.split(","):
        out = subprocess.run([sys.executable, __file__, *flags, f"--only={variant}"], check=True,
                             capture_output=True, text=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
    report = {f"{v}_s": round(r["seconds"], 4) for v, r in results.items()}
    if "metalab_maml" in results and "baseline" in results:
        report["metalab_maml_over_baseline"] = round(results["metalab_maml"]["seconds"] / results["baseline"]["seconds"], 3)
    report["peak_memory_mb"] = {v: round(r["peak_mb"], 1) for v, r in results.items()}
    report.update(config=config, torch=torch.__version__, machine=platform.machine(),
                  processor=platform.processor() or platform.machine(), cpus=os.cpu_count(),
                  affinity=sorted(os.sched_getaffinity(0)))
    if a.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
