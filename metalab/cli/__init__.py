"""The ``metalab`` command: one sub-command per module, each with ``add_parser`` and ``run``.

A sub-command module exposes ``add_parser(subparsers) -> argparse.ArgumentParser`` which sets
``func`` on the parser to a callable ``(args) -> int``. Errors meant for the user are
:class:`metalab.errors.MetalabError` and are printed as one ``metalab: error:`` line without a
traceback, with the flag that sets each field the error names; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from metalab.errors import ConfigError, MetalabError

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


def set_options(items: Sequence[str], whose: str, example: str) -> dict[str, str]:
    """Repeated ``--set KEY=VALUE`` items as a mapping; values stay text, read later by each
    field's declared type."""
    values = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes KEY=VALUE (a hyperparameter of {whose}, e.g. --set {example}), got {item!r}")
        values[key.strip()] = text
    return values


DEBUG_ENV = "METALAB_DEBUG"  # set to 1: errors propagate with their traceback, as --debug


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metalab", description="Meta-learning: train, evaluate and use few-shot learners.",
        epilog=f"An error meant for you is one 'metalab: error:' line; --debug (or {DEBUG_ENV}=1) shows its traceback.",
    )
    parser.add_argument("--debug", action="store_true", help=f"show tracebacks (as {DEBUG_ENV}=1), for bug reports")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    for sub in _subparsers(parser):  # --debug is accepted after the command too
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (nested) sub-command parser of ``parser``."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_subparsers(sub)]
    return found


def _command_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """Option destination -> its flag, for the (nested) sub-command ``args`` ran."""
    flags: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices.get(getattr(args, action.dest, None) or "")
            if sub is not None:
                flags.update(_command_flags(sub, args))
        elif action.option_strings and action.dest != "help":
            flags[action.dest] = max(action.option_strings, key=len)
    return flags


def flag_hint(fields: Sequence[str], flags: dict[str, str] | None = None, command: str = "train") -> str:
    """How to set the configuration ``fields`` an error names, on the command line of ``command``
    whose options are ``flags`` (destination -> flag; default: ``metalab train``'s)."""
    import dataclasses

    from metalab.training.config import TrainConfig

    if flags is None:
        from metalab.cli.train import FLAGS

        flags = {**FLAGS, "resume": "--resume"}
    options = {f.name for f in dataclasses.fields(TrainConfig)}

    def where(field: str) -> str | None:
        if field in flags and field != "learner":
            return flags[field]
        if command != "train":
            return None
        if field in options or field.startswith("preprocess."):
            return f"'{field.split('.')[0]}:' in the --config YAML file"
        return f"--set {field}=VALUE"  # a learner hyperparameter

    known = [f"{field} is {where(field)}" for field in fields if where(field)]
    return "on the command line, " + "; ".join(known) if known else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``metalab ARGV``. Errors meant for the user print one ``metalab: error:`` line and
    return 2; any other exception is a bug, reported with how to get its traceback (exit 1).
    With ``--debug`` or ``METALAB_DEBUG=1`` every error propagates with its traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except MetalabError as error:
        print(f"metalab: error: {error}", file=sys.stderr)
        hint = flag_hint(error.fields, _command_flags(parser, args), args.command)
        if hint:
            print(f"metalab: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metalab: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: say so, and how to see where
        print(f"metalab: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"metalab: this is a bug in metalab; rerun with --debug (or {DEBUG_ENV}=1) and report the traceback",
              file=sys.stderr)
        return 1
