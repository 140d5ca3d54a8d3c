"""``metalab compare RUN_A RUN_B [...]``: evaluate every run on the same fixed, seeded tasks
and test each pair's difference paired, task by task (mean difference with a 95% CI,
Wilcoxon signed-rank and paired t-tests). The runs must share a task family and metric."""

from __future__ import annotations

import argparse
import json
from typing import Any

import torch

from metalab.cli.evaluate import add_task_arguments, check_task_arguments
from metalab.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("compare", help="compare trained runs on the same fixed tasks, paired",
                                   description=__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="two or more run folders (their best.pt) or checkpoints")
    add_task_arguments(parser, "the runs' common ways")
    parser.set_defaults(func=run)
    return parser


def run_names(runs: list[str]) -> list[str]:
    """The runs as given, a repeated one numbered (``run``, ``run#2``)."""
    names: list[str] = []
    for run in runs:
        repeats = sum(1 for other in runs[: len(names)] if other == run)
        names.append(run if repeats == 0 else f"{run}#{repeats + 1}")
    return names


def run(args: argparse.Namespace) -> int:
    from metalab.cli.evaluate import load_run
    from metalab.evaluation.compare import all_pairs
    from metalab.evaluation.evaluate import evaluate
    from metalab.tasks.family import TaskShape
    from metalab.training.allocator import tune_allocator
    from metalab.training.loop import resolve_device

    check_task_arguments(args)
    if len(args.runs) < 2:
        raise ConfigError(f"compare needs at least two runs, got {len(args.runs)}: give RUN_A RUN_B [...] "
                          "(a run twice compares it with itself)")
    tune_allocator()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    names = run_names(args.runs)

    loaded = [load_run(path, args.split, args.data, device) for path in args.runs]
    _check_same_family(names, [(state["config"]["dataset"], tasks) for _, tasks, state in loaded])
    ways = args.ways or _common_ways(names, [state["config"].get("ways") for _, _, state in loaded])
    shape = TaskShape(ways, args.shots, args.queries)
    descriptions = {json.dumps(tasks.describe(shape), sort_keys=True) for _, tasks, _ in loaded}
    if len(descriptions) > 1:  # e.g. another Omniglot split: other tasks, nothing to pair
        raise ConfigError(f"the runs' tasks differ ({' vs '.join(sorted(descriptions))}), so they cannot be paired")

    results, rows = [], []
    for name, (learner, tasks, state) in zip(names, loaded):
        result = evaluate(learner, tasks, ways=ways, shots=args.shots, queries=args.queries,
                          episodes=args.episodes, seed=args.seed, batch=args.batch, device=device)
        results.append(result)
        rows.append({"run": name, "algorithm": state["algorithm"], "checkpoint_step": state["step"],
                     result.metric: round(result.mean, 5), "ci95": round(result.ci95, 5)})

    first, tasks = results[0], loaded[0][1]
    pairs = all_pairs(names, [r.scores for r in results], metric=first.metric,
                      higher_is_better=first.higher_is_better)
    if args.json:
        print(json.dumps({
            "dataset": loaded[0][2]["config"]["dataset"], "split": args.split, **first.task, "metric": first.metric,
            "higher_is_better": first.higher_is_better, "episodes": first.tasks, "seed": first.seed,
            "runs": rows, "pairs": [p.to_json() for p in pairs],
        }))
        return 0
    print(f"{first.summary} on {tasks.name}: {first.tasks} fixed tasks (seed {first.seed}), the same for every run")
    for row, result in zip(rows, results):
        print(f"  {row['run']} ({row['algorithm']}, step {row['checkpoint_step']}): {result.metric} "
              f"{result.mean:.4g} ± {result.ci95:.3g}")
    print("paired differences (first minus second, over the same tasks):")
    for pair in pairs:
        print(f"  {pair}")
    return 0


def _check_same_family(names: list[str], families: list[tuple[str, Any]]) -> None:
    """Refuse runs whose tasks cannot be paired: another family, part or metric."""
    dataset, tasks = families[0]
    for name, (other_dataset, other) in zip(names[1:], families[1:]):
        if (other_dataset, other.name, other.metric) != (dataset, tasks.name, tasks.metric):
            raise ConfigError(
                f"runs on different task families cannot be compared: {names[0]} was trained on {dataset!r} "
                f"(tasks {tasks.name}, metric {tasks.metric}), {name} on {other_dataset!r} (tasks {other.name}, "
                f"metric {other.metric}); compare runs of one task family and metric"
            )


def _common_ways(names: list[str], ways: list[int | None]) -> int | None:
    if len(set(ways)) > 1:
        listed = ", ".join(f"{n}: {w}" for n, w in zip(names, ways))
        raise ConfigError(f"the runs were trained with different ways ({listed}); give --ways to pick the task shape",
                          fields=("ways",))
    return ways[0]
