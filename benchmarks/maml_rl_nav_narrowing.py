"""Choose ``later_std_factor`` for a trained navigation run on validation goals.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_nav_narrowing.py RUN [--factors 1 0.7 0.5 0.35] [--goals 40] [--out FILE]

Scores the run's best checkpoint with each factor (``--set later_std_factor=F`` at test time;
its other options as trained) on the first ``--goals`` fixed validation goals (seed 0, 20
trajectories per step), and writes the returns after 0..3 steps per factor to one JSON. The
test goals are left for the final score.
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
    parser.add_argument("run", type=Path)
    parser.add_argument("--factors", nargs="+", default=["1", "0.7", "0.5", "0.35"])
    parser.add_argument("--goals", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("results/rl/navigation2d_normalised/narrowing_validation.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {}
    for factor in args.factors:
        learner = load_learner(args.run / "best.pt", overrides={"later_std_factor": factor})[0]
        result = evaluate(learner, Navigation2D("val"), shots=20, queries=20, episodes=args.goals, seed=0)
        rows[factor] = {f"return_after_{s}": [round(v, 3) for v in result.breakdown[f"return_after_{s}"]]
                        for s in range(4)}
        print(factor, rows[factor], flush=True)
    out = {"run": args.run.name, "split": "val", "goals": args.goals, "trajectories": 20, "seed": 0,
           "later_std_factor": rows}
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
