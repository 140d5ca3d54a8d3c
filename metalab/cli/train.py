"""``metalab train``: meta-train a learner; options over a YAML config over the defaults."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from metalab.checks import parse_bool
from metalab.cli import set_options
from metalab.errors import ConfigError
from metalab.training.checkpoint import load_checkpoint
from metalab.training.config import TrainConfig, load_yaml, parse_duration

def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _flag(text: str) -> bool:
    value = parse_bool(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


# (flag, config field, type, help)
_OPTIONS = (
    ("--algorithm", "algorithm", str, "meta-learner (protonet, ...)"),
    ("--dataset", "dataset", str, "omniglot, sinusoid (regression), or a folder with one sub-folder per class"),
    ("--split", "split", str, "Omniglot split: vinyals or lake"),
    ("--train-part", "train_part", str, "train, or train+val for a final fit on the split's training and validation classes"),
    ("--data", "data_dir", str, "folder holding the data (default: $METALAB_DATA, then the cache)"),
    ("--ways", "ways", int, "classes per training task"),
    ("--shots", "shots", int, "support examples per class"),
    ("--queries", "queries", int, "query examples per class"),
    ("--meta-batch", "meta_batch", int, "tasks per meta-update"),
    ("--steps", "steps", int, "meta-updates to take"),
    ("--budget", "budget", _duration, "training time instead of --steps: 90s, 10m, 1h"),
    ("--optimizer", "optimizer", str, "adam, rmsprop (decay 0.95, momentum 0.9) or sgd (plain steps)"),
    ("--lr", "lr", float, "learning rate"),
    ("--schedule", "schedule", str, "cosine, step (halve every --lr-step) or constant"),
    ("--lr-step", "lr_step", int, "steps between halvings with --schedule step"),
    ("--val-every", "val_every", int, "steps between validations (default 500; with --budget, 500 or more, so that validating between the first and last validations takes about a tenth of the time)"),
    ("--val-episodes", "val_episodes", int, "fixed validation episodes"),
    ("--checkpoint-every", "checkpoint_every", int, "also write last.pt every N steps between validations"),
    ("--val-ways", "val_ways", int, "ways of validation tasks (default: --ways)"),
    ("--val-shots", "val_shots", int, "shots of validation tasks (default: --shots)"),
    ("--seed", "seed", int, "seed of initialisation and task sampling"),
    ("--out", "out", str, "run folder"),
    ("--device", "device", str, "auto, cpu or cuda"),
    ("--threads", "threads", int, "CPU threads"),
    ("--workers", "workers", int, "threads sharing a meta-batch's tasks (0: one per CPU thread)"),
    ("--vmap", "vmap", _flag, "true or false: vmap over a meta-batch's tasks (default: the learner's choice)"),
)
FLAGS = {field: flag for flag, field, _, _ in _OPTIONS}  # config field -> its command-line flag
TASK_FLAGS = ("within_alphabet", "quarter_turns", "affine")  # flags that set keys of the task option
RUNTIME = ("out", "threads", "device", "workers", "vmap")  # what --resume may change
KEPT_UNLESS_GIVEN = ("checkpoint_every",)  # --resume may change these too; stored values stay otherwise


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train", help="meta-train a learner", description=__doc__,
        epilog="example: metalab train --algorithm protonet --dataset omniglot --split vinyals "
        "--ways 20 --shots 5 --queries 15 --budget 10m --out runs/protonet",
    )
    parser.add_argument("--config", help="YAML file of training options (see configs/)")
    for flag, field, kind, text in _OPTIONS:
        parser.add_argument(flag, dest=field, type=kind, default=None, help=text)
    parser.add_argument("--set", dest="learner", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyperparameter of the algorithm, e.g. --set hidden=64 (repeatable)")
    parser.add_argument("--within-alphabet", action="store_true", default=None,
                        help="train and validate on within-alphabet episodes (Omniglot: one alphabet per "
                        "task, support and queries by different drawers)")
    parser.add_argument("--quarter-turns", action="store_true", default=None,
                        help="training classes also at 90, 180, 270 degrees, as new classes")
    parser.add_argument("--affine", type=float, metavar="STRENGTH",
                        help="random small affine maps of training images (1: Koch et al.'s ranges)")
    parser.add_argument("--resume", action="store_true", help="continue RUN/last.pt exactly")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Defaults, then the YAML file, then the options given on the command line."""
    values = load_yaml(args.config) if args.config else {}
    for _, field, _, _ in _OPTIONS:
        if getattr(args, field) is not None:
            values[field] = getattr(args, field)
    if "budget" in values and args.steps is None and args.budget is not None:
        values.pop("steps", None)
    if "steps" in values and args.budget is None and args.steps is not None:
        values.pop("budget", None)
    # --set values are read by the field's declared type in TrainConfig.from_dict
    values["learner"] = dict(values.get("learner") or {}) | set_options(args.learner, "the algorithm", "hidden=64")
    task = dict(values.get("task") or {})
    for field in TASK_FLAGS:
        if getattr(args, field, None) is not None:
            task[field] = getattr(args, field)
    values["task"] = task
    if "steps" not in values and "budget" not in values:
        values["steps"] = 1000
    return TrainConfig.from_dict(values)


def run(args: argparse.Namespace) -> int:
    from metalab.training.allocator import tune_allocator
    from metalab.training.loop import check_run_folder, train

    tune_allocator()  # keep freed activations in the process: MAML steps 1.2x faster

    config = resolve_config(args)
    check_run_folder(config.out, args.resume)
    if args.resume:
        stored = TrainConfig.from_dict(load_checkpoint(Path(config.out) / "last.pt")["config"])
        given = {f: getattr(args, f) for _, f, _, _ in _OPTIONS if getattr(args, f) is not None}
        changed = [f for f, v in given.items() if f not in RUNTIME + KEPT_UNLESS_GIVEN and getattr(stored, f) != v]
        if changed:
            raise ConfigError(
                f"--resume continues {config.out} with its stored configuration; it cannot change "
                f"{[FLAGS[f] for f in changed]}"
            )
        # The run folder is the one named, wherever the run was first written (a moved or copied run).
        config = dataclasses.replace(stored, **{f: getattr(config, f) for f in RUNTIME},
                                     **{f: given[f] for f in KEPT_UNLESS_GIVEN if f in given})
    result = train(config, resume=args.resume, progress=not args.no_progress, command=["metalab", *sys.argv[1:]])
    best = result.best_val
    print(f"trained {config.algorithm} for {result.steps} steps in {result.elapsed / 60:.1f} min; run folder {result.run}")
    if best:
        print(f"best validation at step {result.best_step}: {best}")
    return 0
