"""``metalab eval RUN``: the run's metric with a 95% CI over fixed, seeded tasks of its task
family's held-out part (accuracy on unseen classes; query MSE for regression families)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING, Any

import torch

from metalab.checks import SEED_MAX, option, validate
from metalab.training.config import DEVICE, MAX_THREADS

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner
    from metalab.tasks.family import TaskFamily


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """The numbers ``metalab eval`` takes, checked before the checkpoint is read."""

    ways: int | None = option(None, minimum=2, meaning=" (None: the run's)")
    shots: int = option(1, minimum=1)
    queries: int = option(15, minimum=1)
    episodes: int = option(600, minimum=1)
    seed: int = option(0, minimum=0, maximum=SEED_MAX)
    batch: int = option(8, minimum=1)
    device: str = option("auto", **DEVICE)
    threads: int | None = option(None, minimum=1, maximum=MAX_THREADS)

    def __post_init__(self) -> None:
        validate(self)


def add_task_arguments(parser: argparse.ArgumentParser, whose: str) -> None:
    """The fixed tasks' flags (shape, count, seed, data) and how to compute, shared by
    ``eval`` and ``compare``; :class:`EvalOptions` checks their numbers."""
    parser.add_argument("--ways", type=int, help=f"classes per task (default: {whose}; families with classes)")
    parser.add_argument("--shots", type=int, required=True)
    parser.add_argument("--queries", type=int, default=15, help="queries (per class) (default 15)")
    parser.add_argument("--episodes", type=int, default=600, help="fixed tasks (default 600)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="part of the task family to draw tasks from (default test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fixed tasks (default 0)")
    parser.add_argument("--data", help=f"data folder (default: {whose}, $METALAB_DATA, the cache)")
    parser.add_argument("--batch", type=int, default=8, help="tasks per forward pass")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def check_task_arguments(args: argparse.Namespace) -> None:
    """Check the numbers of :func:`add_task_arguments` before any checkpoint is read."""
    EvalOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(EvalOptions)})


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("eval", help="evaluate a trained run on fixed tasks", description=__doc__)
    parser.add_argument("run", help="run folder (its best.pt) or a checkpoint file")
    add_task_arguments(parser, "the run's")
    parser.add_argument("--plot", metavar="PNG", help="plot adapted models on the first fixed tasks (where the "
                        "task family can, e.g. sinusoid)")
    parser.set_defaults(func=run)
    return parser


def load_run(
    run: str, part: str, data: str | None, device: torch.device | str,
) -> tuple[MetaLearner, TaskFamily, dict[str, Any]]:
    """A run's learner (on ``device``), the ``part`` of its task family (``data`` overrides the
    run's data folder) and its checkpoint state."""
    from metalab.tasks.registry import load_tasks
    from metalab.training.checkpoint import load_learner

    learner, preprocess, state = load_learner(run, device)
    config = state["config"]
    tasks = load_tasks(config["dataset"], part, split=config["split"], data_dir=data or config.get("data_dir"),
                       preprocess=preprocess)
    return learner, tasks, state


def run(args: argparse.Namespace) -> int:
    from metalab.evaluation.evaluate import evaluate
    from metalab.tasks.family import TaskShape
    from metalab.training.allocator import tune_allocator
    from metalab.training.loop import resolve_device

    check_task_arguments(args)
    tune_allocator()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    learner, tasks, state = load_run(args.run, args.split, args.data, device)
    config = state["config"]
    ways = args.ways or config["ways"]
    result = evaluate(
        learner, tasks, ways=ways, shots=args.shots, queries=args.queries,
        episodes=args.episodes, seed=args.seed, batch=args.batch, device=device,
    )
    if args.plot:
        tasks.plot(learner, TaskShape(ways, args.shots, args.queries), seed=args.seed, path=args.plot,
                   title=f"{state['algorithm']} on {tasks.name}, {result.summary}")
    if args.json:
        print(json.dumps({"algorithm": state["algorithm"], "dataset": config["dataset"], "split": args.split,
                          **result.to_json(), "checkpoint_step": state["step"]}))
        return 0
    print(f"{state['algorithm']} on {tasks.name}: {result}")
    if result.paper is not None:
        print(f"paper: {result.metric} {result.paper:g} ({result.paper_source}); "
              f"difference {result.mean - result.paper:+.3g}")
    if args.plot:
        print(f"adapted models: {args.plot}")
    return 0
