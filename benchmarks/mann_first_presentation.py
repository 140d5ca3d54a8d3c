"""Where MANN's accuracy on the 1st presentation of a class comes from.

At the 1st presentation of a class nothing about its image can be known, but the labels shown
so far can: the class's label is one of those not yet shown. A learner that guesses uniformly
among the labels not yet shown is right with probability 1 / (ways - k) after k distinct labels
(k = 0..4 for 5 classes; 45.7% on average over a sequence's five 1st presentations, against
20% for a uniform guess). This script scores a trained run's 1st presentations by k on the
same fixed test sequences as ``benchmarks/mann_omniglot.py`` (1000, seed 0): accuracy, and the
probability mass the learner puts on labels not yet shown (1.0 for an ideal excluder).

Usage: METALAB_DATA=... python benchmarks/mann_first_presentation.py RUN_FOLDER --out FILE.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from metalab.data.preprocess import Preprocess
from metalab.evaluation.evaluate import mean_ci95
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.sequences import instance_numbers
from metalab.tasks.stream import fixed_tasks
from metalab.training.checkpoint import load_learner

SHAPE = TaskShape(5, 10, 1)


def first_presentations(learner, family, episodes: int, seed: int = 0) -> dict[int, dict[str, list[float]]]:
    """k -> accuracy (%) and probability mass on unseen labels (%), each [mean, ci95], over the
    1st presentations that follow k distinct labels."""
    correct: dict[int, list[float]] = {k: [] for k in range(SHAPE.ways)}
    unseen_mass: dict[int, list[float]] = {k: [] for k in range(SHAPE.ways)}
    with torch.no_grad():
        for batch in fixed_tasks(family, SHAPE, seed=seed, count=episodes, batch=50):
            labels = batch.query_y  # [T, L]
            probabilities = learner.predict(batch).softmax(-1)  # [T, L, N]
            first = instance_numbers(labels) == 1
            shown = torch.zeros(labels.shape[0], SHAPE.ways, dtype=torch.bool)  # labels revealed before step t
            for t in range(labels.shape[1]):
                k = shown.sum(-1)
                for task in torch.nonzero(first[:, t]).flatten().tolist():
                    p = probabilities[task, t]
                    correct[int(k[task])].append(float(p.argmax() == labels[task, t]) * 100)
                    unseen_mass[int(k[task])].append(float(p[~shown[task]].sum()) * 100)
                shown[torch.arange(labels.shape[0]), labels[:, t]] = True
    out = {}
    for k in range(SHAPE.ways):
        accuracy, mass = torch.tensor(correct[k]), torch.tensor(unseen_mass[k])
        out[k] = {"count": len(correct[k]), "accuracy": [round(v, 2) for v in mean_ci95(accuracy)],
                  "unseen_mass": [round(v, 2) for v in mean_ci95(mass)],
                  "ideal_accuracy": round(100 / (SHAPE.ways - k), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a MANN run folder (its last.pt is scored)")
    parser.add_argument("--data", help="Omniglot folder (default: $METALAB_DATA)")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args()
    torch.set_num_threads(1)
    learner, _, state = load_learner(Path(args.run) / "last.pt")
    learner.eval()
    family = load_tasks("omniglot-sequences", "test", data_dir=args.data, preprocess=Preprocess(size=20))
    table = first_presentations(learner, family, args.episodes)
    overall = sum(row["accuracy"][0] * row["count"] for row in table.values()) / sum(r["count"] for r in table.values())
    result = {"run": args.run, "step": state["step"], "episodes": args.episodes, "test_seed": 0,
              "by_labels_shown": table, "first_presentation_accuracy": round(overall, 2),
              "ideal_excluder_accuracy": round(sum(100 / (SHAPE.ways - k) for k in range(SHAPE.ways)) / SHAPE.ways, 2)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print("labels shown | 1st presentations | accuracy % | ideal % | mass on unseen labels %")
    for k, row in table.items():
        print(f"{k:12d} | {row['count']:17d} | {row['accuracy'][0]:6.1f} ± {row['accuracy'][1]:.1f} | "
              f"{row['ideal_accuracy']:7.1f} | {row['unseen_mass'][0]:5.1f} ± {row['unseen_mass'][1]:.1f}")
    print(f"all 1st presentations: {overall:.2f}% (an ideal excluder: {result['ideal_excluder_accuracy']}%)")


if __name__ == "__main__":
    main()
