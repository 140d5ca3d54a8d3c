"""Probes behind results/rl/navigation2d_normalised's reading: where the later steps' return goes.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_nav_probes.py PAPER_RUN STD05_RUN [--also RUN ...] [--out FILE]

``PAPER_RUN``: the run with the paper's settings in normalised units (``--set action_scale=0.1``);
``STD05_RUN``: the std-0.5 run (``--also``: more runs whose learned std to report). Writes one
JSON: each run's learned std; the paper-settings run's
returns with the later steps at a quarter and a tenth of the step (100 fixed test goals); its
returns when its std is shrunk before adapting (40 goals); and, for the std-0.5 run, after each
step, the share of trajectories that reach the goal (end within 0.01), their mean length and
their final distance to the goal (30 goals).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.navigation import Navigation2D
from metalab.training.checkpoint import load_learner

K = 20


def returns(run: Path, goals: int, std: float | None = None, **overrides: str) -> list[float]:
    learner = load_learner(run / "best.pt", overrides=overrides)[0]
    if std is not None:
        with torch.no_grad():
            learner.policy.log_std.fill_(math.log(std))
    result = evaluate(learner, Navigation2D("test"), shots=K, queries=K, episodes=goals, seed=0)
    return [round(result.breakdown[f"return_after_{s}"][0], 3) for s in range(4)]


def arrivals(run: Path, goals: int) -> dict[str, list[float]]:
    learner = load_learner(run / "best.pt")[0]
    family, rows = Navigation2D("test"), {"reached": [], "length": [], "final_distance": []}
    per_step: list[list[tuple[float, float, float]]] = [[] for _ in range(4)]
    with torch.no_grad():
        for i in range(goals):
            task = family.fixed(TaskShape(None, K, K), 0, i)
            for step, r in enumerate(learner.adapt(task.support_x, task.support_y, 0).rollouts):
                length = r.mask[0].sum(-1)
                last = r.observations[0, torch.arange(K), length.long() - 1, :2]
                per_step[step].append(((r.mask[0, :, -1] == 0).float().mean().item(), length.mean().item(),
                                       (last - task.support_x[0]).norm(dim=-1).mean().item()))
    for values in per_step:
        for key, column in zip(rows, zip(*values)):
            rows[key].append(round(sum(column) / len(column), 3))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper_run", type=Path)
    parser.add_argument("std05_run", type=Path)
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="more runs whose learned std to report")
    parser.add_argument("--out", type=Path, default=Path("results/rl/navigation2d_normalised/probes.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {"learned_std": {run.name: [round(v, 3) for v in load_learner(run / "best.pt")[0].policy.log_std.exp()
                                       .flatten().tolist()] for run in (args.paper_run, args.std05_run, *args.also)},
           "paper_run_later_lr_factor": {f: returns(args.paper_run, 100, later_lr_factor=f) for f in ("0.25", "0.1")},
           "paper_run_std_shrunk_at_test": {s: returns(args.paper_run, 40, std=s, later_lr_factor="0.5")
                                            for s in (0.5, 0.3, 0.1)},
           "std05_run_arrivals_after_0_1_2_3_steps": arrivals(args.std05_run, 30)}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
