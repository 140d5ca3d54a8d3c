"""MAML's meta-step time at two commits of metalab, measured in one run, alternating.

Usage: python benchmarks/maml_speed_commits.py --before REV [--after REV] [--rounds 5]
           [--variants metalab_maml,metalab_fomaml,baseline] [--threads 2] [--json]

Each commit is checked out in a temporary git worktree (``--after`` defaults to the working
tree) and each variant of ``benchmarks/maml_speed.py`` is timed by that commit's own copy of
the script, in its own process with ``PYTHONPATH`` on that tree, alternating before/after for
``--rounds`` rounds so that the machine's drift falls on both alike. Prints the median seconds
per meta-step of each variant at each commit and their ratio (after / before; below 1 is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worktree(rev: str, folder: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), rev], check=True,
                   capture_output=True)
    return folder


def time_variant(tree: Path, variant: str, threads: int, reps: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "maml_speed.py"), f"--only={variant}",
                          f"--threads={threads}", f"--reps={reps}"], check=True, capture_output=True, text=True,
                         env=env, cwd=tree).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="git revision timed first in each round")
    p.add_argument("--after", help="git revision timed second (default: the working tree)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=5, help="timed meta-steps per process (median)")
    p.add_argument("--variants", default="metalab_maml,metalab_fomaml,baseline")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": worktree(a.before, Path(tmp) / "before"),
                 "after": worktree(a.after, Path(tmp) / "after") if a.after else ROOT}
        try:
            times: dict[str, dict[str, list[float]]] = {v: {"before": [], "after": []} for v in a.variants.split(",")}
            for _ in range(a.rounds):
                for variant, by_tree in times.items():
                    for label, tree in trees.items():
                        by_tree[label].append(time_variant(tree, variant, a.threads, a.reps))
        finally:
            for label in ("before", "after"):
                if trees[label] != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees[label])],
                                   capture_output=True)
    report = {
        variant: {"before_s": round(statistics.median(t["before"]), 4), "after_s": round(statistics.median(t["after"]), 4),
                  "after_over_before": round(statistics.median(t["after"]) / statistics.median(t["before"]), 3),
                  "rounds": {k: [round(x, 4) for x in v] for k, v in t.items()}}
        for variant, t in times.items()
    }
    report["config"] = {"before": a.before, "after": a.after or "working tree", "rounds": a.rounds, "reps": a.reps,
                        "threads": a.threads, "processor": platform.processor() or platform.machine(),
                        "cpus": os.cpu_count()}
    print(json.dumps(report) if a.json else json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
