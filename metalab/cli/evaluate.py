"""``metalab eval RUN``: the run's metric with a 95% CI over fixed, seeded tasks of its task
family's held-out part (accuracy on unseen classes; query MSE for regression families)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING, Any

import torch

from metalab.checks import SEED_MAX, option, validate
from metalab.cli import set_options
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
    parser.add_argument("--within-alphabet", action="store_true",
                        help="Omniglot: 20-way 1-shot tasks within one alphabet, support and queries by "
                        "different drawers (Lake et al. 2015); give --ways 20 --shots 1 --queries 1")
    parser.add_argument("--tta", type=int, default=0, metavar="COPIES",
                        help="average over COPIES randomly distorted copies of each task (default 0: none)")
    parser.add_argument("--finetune", dest="finetune_steps", type=int, default=0, metavar="STEPS",
                        help="protonet: fine-tune the embedding on each support set for STEPS Adam steps")
    parser.add_argument("--finetune-lr", type=float, default=1e-3, help="their learning rate (default 1e-3)")
    parser.add_argument("--finetune-copies", type=int, default=4,
                        help="distorted pseudo-queries per support image (default 4)")
    parser.add_argument("--affine", type=float, default=1.0, metavar="STRENGTH",
                        help="distortion strength of --tta copies and --finetune pseudo-queries (1: Koch et "
                        "al.'s ranges; default 1)")
    parser.add_argument("--plot", metavar="PNG", help="plot adapted models on the first fixed tasks (where the "
                        "task family can, e.g. sinusoid)")
    parser.add_argument("--set", dest="learner", action="append", default=[], metavar="KEY=VALUE",
                        help="a test-time hyperparameter of the run's learner, e.g. --set eval_inner_steps=5 "
                        "(repeatable; one that changes the parameters' shapes does not load)")
    parser.set_defaults(func=run)
    return parser


def load_run(
    run: str, part: str, data: str | None, device: torch.device | str, task: dict[str, Any] | None = None,
    overrides: dict[str, str] | None = None,
) -> tuple[MetaLearner, TaskFamily, dict[str, Any]]:
    """A run's learner (on ``device``), the ``part`` of its task family (``data`` overrides the
    run's data folder; ``task``: how tasks are drawn, e.g. ``within_alphabet``) and its
    checkpoint state; ``overrides``: test-time hyperparameters of the learner (``--set``)."""
    from metalab.tasks.registry import load_tasks
    from metalab.training.checkpoint import load_learner

    learner, preprocess, state = load_learner(run, device, overrides)
    config = state["config"]
    tasks = load_tasks(config["dataset"], part, split=config["split"], data_dir=data or config.get("data_dir"),
                       preprocess=preprocess, task=task)
    return learner, tasks, state


def run(args: argparse.Namespace) -> int:
    from metalab.evaluation.evaluate import evaluate
    from metalab.evaluation.test_time import TestTimeOptions, at_test_time
    from metalab.tasks.family import TaskShape
    from metalab.training.allocator import tune_allocator
    from metalab.training.loop import resolve_device

    check_task_arguments(args)
    test_time = TestTimeOptions(tta=args.tta, finetune_steps=args.finetune_steps, finetune_lr=args.finetune_lr,
                                finetune_copies=args.finetune_copies, affine=args.affine, seed=args.seed)
    tune_allocator()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    task = {"within_alphabet": True} if args.within_alphabet else {}
    learner, tasks, state = load_run(args.run, args.split, args.data, device, task, set_options(args.learner, "the run's learner", "eval_inner_steps=5"))
    learner = at_test_time(learner, test_time)
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
        extra = {"test_time": dataclasses.asdict(test_time)} if test_time.tta or test_time.finetune_steps else {}
        print(json.dumps({"algorithm": state["algorithm"], "dataset": config["dataset"], "split": args.split,
                          **result.to_json(), "checkpoint_step": state["step"], **extra}))
        return 0
    print(f"{state['algorithm']} on {tasks.name}: {result}")
    if result.paper is not None:
        print(f"paper: {result.metric} {result.paper:g} ({result.paper_source}); "
              f"difference {result.mean - result.paper:+.3g}")
    if args.plot:
        print(f"adapted models: {args.plot}")
    return 0
