"""metalab's MAML meta-step beside learn2learn's, measured in one run, alternating.

Usage: python benchmarks/maml_speed_learn2learn.py --l2l-python VENV/bin/python [--rounds 5] [--reps 5]
           [--threads 2] [--out results/speed/maml_meta_step] [--table]

learn2learn 0.2.0 lives in its own environment (``../shared/bench/learn2learn/install.sh VENV``).
Each round times, each in its own process on the same configuration (meta-batch 32 of 5-way
1-shot tasks with 15 queries per class, Conv-4, one second-order inner step of 0.4, Adam,
``--threads`` threads, median of ``--reps`` steps after a warm-up):

- metalab's MAML, by ``benchmarks/maml_speed.py --only=metalab_maml`` (glibc malloc tuned as
  the ``metalab`` command tunes it);
- learn2learn's MAML, by ``../shared/bench/learn2learn/maml_speed.py``, with the same malloc
  settings given as environment variables, so that the comparison is like for like.

The two alternate, so that a shared machine's drift falls on both alike; each round's ratio is
learn2learn's seconds over metalab's, and the headline is the median of the rounds' ratios
(:func:`speedup`). Writes ``<out>/vs_learn2learn.json`` (every round's raw output) and
``<out>/vs_learn2learn_meta.json`` (date, machine, commit, command, wall time, load).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT.parent / "shared" / "bench" / "learn2learn" / "maml_speed.py"
MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TOP_PAD_": "67108864",
          "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def round_ratio(record: dict[str, Any]) -> float:
    """learn2learn's seconds per meta-step over metalab's in one round (above 1: metalab faster)."""
    return record["learn2learn"]["learn2learn_maml_s"] / record["metalab"]["seconds"]


def speedup(rounds: list[dict[str, Any]]) -> float:
    """The headline: the median of the rounds' ratios."""
    return statistics.median(round_ratio(r) for r in rounds)


def table(rounds: list[dict[str, Any]]) -> str:
    """The README's table: each round's seconds per meta-step and ratio, then the medians."""
    lines = ["| round | metalab MAML | learn2learn MAML | learn2learn / metalab |", "|---|---|---|---|"]
    for r in rounds:
        lines.append(f"| {r['round']} | {r['metalab']['seconds']:.3f} s | {r['learn2learn']['learn2learn_maml_s']:.3f} s "
                     f"| {round_ratio(r):.2f} |")
    ours = statistics.median(r["metalab"]["seconds"] for r in rounds)
    theirs = statistics.median(r["learn2learn"]["learn2learn_maml_s"] for r in rounds)
    lines.append(f"| median | {ours:.3f} s | {theirs:.3f} s | **{speedup(rounds):.2f}x** |")
    return "\n".join(lines)


def _last_json(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **(env or {})}).stdout
    return json.loads(out.strip().splitlines()[-1])


def _machine() -> dict[str, Any]:
    fields = {}
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
            fields[key.strip()] = value.strip()
    import torch

    return {"lscpu": fields, "torch": torch.__version__}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--l2l-python", required=True, help="python of the environment made by install.sh")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "results" / "speed" / "maml_meta_step"))
    p.add_argument("--table", action="store_true", help="print the table of <out>/vs_learn2learn.json and stop")
    a = p.parse_args()
    if a.table:
        print(table(json.loads((Path(a.out) / "vs_learn2learn.json").read_text(encoding="utf-8"))["rounds"]))
        return
    ours = [sys.executable, str(ROOT / "benchmarks" / "maml_speed.py"), "--only=metalab_maml",
            f"--threads={a.threads}", f"--reps={a.reps}"]
    theirs = [a.l2l_python, str(HARNESS), f"--threads={a.threads}", f"--reps={a.reps}"]
    started, start, load_before = datetime.datetime.now(datetime.timezone.utc), time.time(), os.getloadavg()
    rounds = []
    for k in range(1, a.rounds + 1):
        record = {"round": k, "metalab": _last_json(ours), "learn2learn": _last_json(theirs, MALLOC)}
        rounds.append(record)
        print(f"round {k}: metalab {record['metalab']['seconds']:.3f} s, learn2learn "
              f"{record['learn2learn']['learn2learn_maml_s']:.3f} s, ratio {round_ratio(record):.2f}", flush=True)
    out = Path(a.out)
    raw = {"config": {"ways": 5, "shots": 1, "queries": 15, "meta_batch": 32, "inner_steps": 1, "inner_lr": 0.4,
                      "second_order": True, "reps": a.reps, "threads": a.threads, "malloc": MALLOC},
           "rounds": rounds}
    (out / "vs_learn2learn.json").write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    meta = {"date": started.isoformat(timespec="seconds"), "machine": _machine(), "commit": commit,
            "command": "python benchmarks/maml_speed_learn2learn.py --l2l-python VENV/bin/python "
                       f"--rounds {a.rounds} --reps {a.reps} --threads {a.threads}",
            "wall_seconds": round(time.time() - start, 1),
            "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                    "after": [round(x, 2) for x in os.getloadavg()]},
            "speedup": round(speedup(rounds), 3)}
    (out / "vs_learn2learn_meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(meta, indent=1))
    print(table(rounds))


if __name__ == "__main__":
    main()
