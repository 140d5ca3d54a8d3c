"""The ``metalab`` command: one sub-command per module, each with ``add_parser`` and ``run``.

A sub-command module exposes ``add_parser(subparsers) -> argparse.ArgumentParser`` which sets
``func`` on the parser to a callable ``(args) -> int``. Errors meant for the user are
:class:`metalab.errors.MetalabError` and are printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from metalab.errors import MetalabError

# Sub-command modules, in the order `metalab --help` lists them.
_COMMANDS = (
    "metalab.cli.train",
    "metalab.cli.evaluate",
    "metalab.cli.compare",
    "metalab.cli.report",
    "metalab.cli.predict",
    "metalab.cli.data",
    "metalab.cli.demo",
    "metalab.cli.automl",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metalab", description="Meta-learning: train, evaluate and use few-shot learners."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def flag_hint(fields: Sequence[str]) -> str:
    """How to set the configuration ``fields`` an error names, on the command line."""
    import dataclasses

    from metalab.cli.train import FLAGS
    from metalab.training.config import TrainConfig

    options = {f.name for f in dataclasses.fields(TrainConfig)}
    flags = {**FLAGS, "resume": "--resume"}

    def where(field: str) -> str:
        if field in flags:
            return flags[field]
        if field in options:
            return f"'{field}:' in the --config YAML file"
        return f"--set {field}=VALUE"  # a learner hyperparameter

    return "on the command line, " + "; ".join(f"{field} is {where(field)}" for field in fields) if fields else ""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MetalabError as error:
        print(f"metalab: error: {error}", file=sys.stderr)
        hint = flag_hint(error.fields)
        if hint:
            print(f"metalab: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metalab: interrupted", file=sys.stderr)
        return 130
