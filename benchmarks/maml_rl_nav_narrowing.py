"""Navigation runs scored on validation goals, for each ``later_std_factor``: how the factor and
the run (of several seeds) that the test goals score are chosen, without looking at them.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_nav_narrowing.py RUN [RUN ...] [--factors 1 0.7 0.5 0.35]
        [--goals 100] [--trajectories 40] [--out FILE]

Each ``RUN`` (a run folder: its best.pt, or a checkpoint file) is scored with ``--set
later_std_factor=F`` for every factor (its other options as trained) on the first ``--goals``
fixed validation goals (seed 0), ``--trajectories`` per adaptation step; the returns after 0..3
steps, mean and 95% CI, go to one JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from metalab.evaluation.evaluate import evaluate
from metalab.tasks.navigation import Navigation2D
from metalab.training.checkpoint import load_learner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--factors", nargs="+", default=["1", "0.7", "0.5", "0.35"])
    parser.add_argument("--goals", type=int, default=100)
    parser.add_argument("--trajectories", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: dict[str, dict[str, dict[str, list[float]]]] = {}
    for run in args.runs:
        checkpoint = run / "best.pt" if run.is_dir() else run
        for factor in args.factors:
            learner, _, state = load_learner(checkpoint, overrides={"later_std_factor": factor})
            result = evaluate(learner, Navigation2D("val"), shots=args.trajectories, queries=args.trajectories,
                              episodes=args.goals, seed=0)
            scores = {f"return_after_{s}": [round(v, 3) for v in result.breakdown[f"return_after_{s}"]]
                      for s in range(4)}
            rows.setdefault(str(run), {})[factor] = scores | {"checkpoint_step": state.get("step")}
            print(run, factor, scores, flush=True)
    out = {"split": "val", "goals": args.goals, "trajectories": args.trajectories, "seed": 0, "runs": rows}
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
