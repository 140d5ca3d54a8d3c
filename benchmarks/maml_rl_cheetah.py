"""MAML-RL on half-cheetah direction (Finn et al. 2017, Table 5): train, score by direction, write results.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_cheetah.py train maml --steps 60       # one core each:
    OMP_NUM_THREADS=1 python benchmarks/maml_rl_cheetah.py train pretrained --steps 60 # run both at once
    OMP_NUM_THREADS=1 python benchmarks/maml_rl_cheetah.py report

``train`` runs ``metalab train --algorithm maml-rl --dataset cheetah-dir`` for a fixed number of
meta-iterations (``maml``), or the paper's pretrained baseline (``pretrained``: ``--set
inner_steps=0``, TRPO on the unadapted policy across directions, then fine-tuned with the same
policy-gradient steps). ``report`` scores each run's last checkpoint on ``TEST_TASKS`` fixed test
tasks (seed 0) after 0-3 policy-gradient steps of 20 trajectories, overall and per direction, and
writes results/rl/cheetah_dir/: README.md, meta.json and evaluation.json. The question it answers
is the paper's: does one step of adaptation separate running forward from running backward?
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "cheetah_dir"
RUNS = {"maml": ("MAML-RL (metalab)", ROOT / "runs" / "maml_rl_cheetah_dir", ()),
        "pretrained": ("pretrained + PG (metalab)", ROOT / "runs" / "maml_rl_pretrained_cheetah_dir",
                       ("--set", "inner_steps=0"))}
PAPER = {"MAML (Finn et al. 2017, Table 5)": (-50.69, 293.19, 313.48, 315.65)}
TEST_TASKS, SEED, TRAJECTORIES = 40, 0, 20


def train_command(which: str, steps: int, meta_batch: int) -> list[str]:
    _, run, extra = RUNS[which]
    return ["metalab", "train", "--algorithm", "maml-rl", "--dataset", "cheetah-dir", "--shots", str(TRAJECTORIES),
            "--queries", str(TRAJECTORIES), "--meta-batch", str(meta_batch), "--steps", str(steps),
            "--val-every", str(steps), "--checkpoint-every", "10", "--val-episodes", "4", "--threads", "1", "--seed", "0",
            "--out", str(run.relative_to(ROOT)), "--no-progress", *extra]


def train(which: str, steps: int, meta_batch: int) -> None:
    command = train_command(which, steps, meta_batch)
    print("$", " ".join(command), flush=True)
    clock = time.perf_counter()
    subprocess.run([sys.executable, "-m", "metalab", *command[1:]], check=True, cwd=ROOT)
    (RUNS[which][1] / "benchmark.json").write_text(json.dumps(
        {"command": " ".join(command), "seconds": time.perf_counter() - clock, "steps": steps,
         "meta_batch": meta_batch}, indent=1))


def returns_by_direction(run: Path) -> dict[str, list[list[float]]]:
    """Each fixed test task's return after 0..3 steps, with the last checkpoint, by direction."""
    from metalab.tasks.family import TaskShape
    from metalab.tasks.registry import load_tasks
    from metalab.tasks.stream import fixed_tasks
    from metalab.training.checkpoint import load_learner

    learner, _, _ = load_learner(run / "last.pt")
    family = load_tasks("cheetah-dir", "test")
    rows: dict[str, list[list[float]]] = {"forward": [], "backward": []}
    with torch.no_grad():
        for episode in fixed_tasks(family, TaskShape(None, TRAJECTORIES, TRAJECTORIES), seed=SEED,
                                   count=TEST_TASKS, batch=8):
            for direction, returns in zip(episode.support_x[:, 0, 0].tolist(), learner.predict(episode).tolist()):
                rows["forward" if direction > 0 else "backward"].append(returns)
    return rows


def mean_ci(values: list[float]) -> tuple[float, float]:
    from metalab.evaluation.evaluate import mean_ci95

    return mean_ci95(torch.tensor(values))


def cell(values: list[float]) -> str:
    mean, ci = mean_ci(values)
    return f"{mean:.1f} ± {ci:.1f}"


def report() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    evaluation, runs = {}, {}
    for which, (name, run, _) in RUNS.items():
        if not (run / "last.pt").exists():
            print(f"{run} has no last.pt: run `train {which}` first", file=sys.stderr)
            continue
        clock = time.perf_counter()
        evaluation[name] = returns_by_direction(run)
        runs[name] = json.loads((run / "benchmark.json").read_text()) | {"eval_seconds": time.perf_counter() - clock}
    (OUT / "evaluation.json").write_text(json.dumps(evaluation, indent=1))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
            "machine": f"{cpu_model()}, 2 cores shared with other jobs; one thread per run",
            "torch": torch.__version__, "test_tasks": TEST_TASKS, "seed": SEED, "runs": runs,
            "commands": [r["command"] for r in runs.values()] + ["python benchmarks/maml_rl_cheetah.py report"],
            "budget": ", ".join(f"{name}: {r['steps']} meta-iterations of {r['meta_batch']} tasks, "
                                f"{r['seconds'] / 60:.1f} min" for name, r in runs.items())}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    lines = ["| run | tasks | 0 steps | 1 step | 2 steps | 3 steps |", "|---|---|---|---|---|---|"]
    for name, rows in evaluation.items():
        for direction in ("forward", "backward"):
            lines.append(f"| {name} | {direction} ({len(rows[direction])}) | "
                         + " | ".join(cell([r[s] for r in rows[direction]]) for s in range(4)) + " |")
        both = rows["forward"] + rows["backward"]
        lines.append(f"| {name} | all ({len(both)}) | " + " | ".join(cell([r[s] for r in both]) for s in range(4)) + " |")
    for name, figures in PAPER.items():
        lines.append(f"| {name} | all | " + " | ".join(f"{f:.2f}" for f in figures) + " |")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("which", choices=sorted(RUNS))
    t.add_argument("--steps", type=int, default=60)
    t.add_argument("--meta-batch", type=int, default=20)
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "train":
        train(args.which, args.steps, args.meta_batch)
    else:
        report()


if __name__ == "__main__":
    main()
