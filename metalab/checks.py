"""The one way configuration values are checked: constraints declared on dataclass fields.

A config dataclass declares each field's type in its annotation and its range with
:func:`option`; its ``__post_init__`` calls :func:`validate`, which checks every field against
both and raises a :class:`~metalab.errors.ConfigError` naming the field, the value and what it
must be. :func:`convert` reads a field from text (``--set KEY=VALUE``, a YAML string) by its
declared type, so that text and Python values meet the same checks::

    @dataclasses.dataclass(frozen=True)
    class Config:
        hidden: int = option(64, minimum=1)
        lr: float = option(0.4, above=0)
        loss: str = option("mse", choices=LOSSES)

        def __post_init__(self) -> None:
            validate(self)

Rules between fields (one field's range depending on another) follow ``validate`` in
``__post_init__``, raising through :func:`fail`. A subclass that only changes a default
(``inner_steps: int = 5``) keeps the constraint its base class declared.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

import yaml

from metalab.errors import ConfigError

SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes 64-bit seeds; derive_seed makes 63-bit ones
SEED32_MAX = 2**32 - 1  # numpy's and scikit-learn's random_state take 32-bit seeds
_NULLS = ("none", "null", "~")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclasses.dataclass(frozen=True)
class Constraint:
    """What a field's value must be besides its declared type.

    Attributes:
        minimum, maximum: inclusive bounds of a number.
        above: exclusive lower bound of a number (``above=0``: positive).
        choices: the allowed values (a live collection: a registry may grow after import).
        pattern: a regular expression a string must match whole, described by ``meaning``.
        meaning: what special values mean, added to the message (`` (0: all at once)``).
        parse: reads the field from text instead of its type's reader (durations).
    """

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: Collection[Any] | None = None
    pattern: str | None = None
    meaning: str = ""
    parse: Callable[[str], Any] | None = None


def option(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, **constraint: Any) -> Any:
    """A dataclass field with a declared :class:`Constraint` (keyword arguments as its attributes)."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"constraint": Constraint(**constraint)})


def fail(message: str, *fields: str) -> typing.NoReturn:
    """Raise the :class:`ConfigError` of a rule between ``fields``."""
    raise ConfigError(message, fields=fields)


@lru_cache(maxsize=None)
def _schema(cls: type) -> dict[str, tuple[Any, Constraint]]:
    """Each field's declared type and constraint (the nearest declaration that has one)."""
    hints = typing.get_type_hints(cls)
    schema = {}
    for field in dataclasses.fields(cls):
        constraint = Constraint()
        for klass in cls.__mro__:
            declared = getattr(klass, "__dataclass_fields__", {}).get(field.name)
            if declared is not None and "constraint" in declared.metadata:
                constraint = declared.metadata["constraint"]
                break
        schema[field.name] = (hints[field.name], constraint)
    return schema


def _parts(kind: Any) -> tuple[tuple[Any, ...], bool]:
    """``int | None`` -> ``((int,), True)``; ``dict[str, Any]`` -> ``((dict,), False)``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = typing.get_args(kind)
        return tuple(typing.get_origin(a) or a for a in args if a is not type(None)), type(None) in args
    return (typing.get_origin(kind) or kind,), False


def _number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return integer or abs(value) < 2**1023  # an int a float can hold
    return not integer and isinstance(value, float) and math.isfinite(value)


def _fits(value: Any, base: Any) -> bool:
    if base is Any:
        return True
    if base is int or base is float:
        return _number(value, base is int)
    if base is str:
        return isinstance(value, str) and value != ""
    if base is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, base)


def describe(kind: Any, constraint: Constraint) -> str:
    """What a field must be, in words: ``an integer >= 0 or None (0: all at once)``."""
    bases, optional = _parts(kind)
    if constraint.choices is not None:
        text = f"one of {sorted(constraint.choices, key=str)}"
    elif constraint.pattern is not None:
        text = constraint.meaning.strip() or f"text matching {constraint.pattern}"
    else:
        names = {int: "an integer", float: "a number", str: "non-empty text", bool: "true or false",
                 dict: "a mapping of name: value"}
        text = " or ".join(names.get(b, getattr(b, "__name__", str(b))) for b in bases)
        if constraint.above == 0 and constraint.minimum is None and constraint.maximum is None:
            text = text.replace("a number", "a positive number").replace("an integer", "a positive integer")
        elif constraint.minimum is not None and constraint.maximum is not None:
            text += f" in [{constraint.minimum}, {constraint.maximum}]"
        elif constraint.above is not None and constraint.maximum is not None and constraint.minimum is None:
            text += f" in ({constraint.above}, {constraint.maximum}]"
        else:
            if constraint.above is not None:
                text += f" > {constraint.above}"
            if constraint.minimum is not None:
                text += f" >= {constraint.minimum}"
            if constraint.maximum is not None:
                text += f" <= {constraint.maximum}"
    text += " or None" if optional else ""
    return text + (constraint.meaning if constraint.pattern is None else "")


def _in_range(value: Any, constraint: Constraint) -> bool:
    if constraint.choices is not None and not any(value == c and type(value) is type(c) for c in constraint.choices):
        return False
    if constraint.pattern is not None and not re.fullmatch(constraint.pattern, value):
        return False
    if constraint.minimum is not None and value < constraint.minimum:
        return False
    if constraint.maximum is not None and value > constraint.maximum:
        return False
    return constraint.above is None or value > constraint.above


def check_value(cls: type, name: str, value: Any, prefix: str = "") -> None:
    """Raise a :class:`ConfigError` unless ``value`` fits field ``name`` of ``cls``."""
    kind, constraint = _schema(cls)[name]
    bases, optional = _parts(kind)
    if value is None and optional:
        return
    if not any(_fits(value, b) for b in bases) or not _in_range(value, constraint):
        field = prefix + name
        close = difflib.get_close_matches(value, list(map(str, constraint.choices)), n=1) if (
            constraint.choices is not None and isinstance(value, str)) else []
        guess = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{field} must be {describe(kind, constraint)}, got {value!r}{guess}", fields=(field,))


def validate(config: Any, prefix: str = "") -> None:
    """Check every field of the dataclass instance ``config`` against its declaration.

    ``prefix`` names where the config sits (``preprocess.``) in messages and ``fields``.
    """
    for name in _schema(type(config)):
        check_value(type(config), name, getattr(config, name), prefix)


def field_names(cls: type) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(cls))


def from_mapping(cls: type, values: Any, option_name: str) -> Any:
    """A ``cls`` built from ``values``, a mapping given as the training option ``option_name``
    (``preprocess:``, ``task:``); anything else, or an unknown key, is a named error."""
    names = field_names(cls)
    if not isinstance(values, dict):
        raise ConfigError(f"{option_name} must be a mapping of {names} to values, got {values!r}", fields=(option_name,))
    unknown = sorted(set(values) - set(names), key=str)
    if unknown:
        raise ConfigError(f"{option_name} has no option(s) {unknown}; known: {names}", fields=(option_name,))
    return cls(**values)


def convert(cls: type, name: str, text: str, prefix: str = "") -> Any:
    """Field ``name`` of ``cls`` read from ``text`` by its declared type (then checked).

    ``none``/``null`` is None for an optional field, ``true``/``false`` a bool, ``1e-3`` a
    float; a field of a mapping or any type is read as YAML.
    """
    schema = _schema(cls)
    if name not in schema:
        raise ConfigError(f"{cls.__name__} has no field {prefix + name!r}; known: {field_names(cls)}",
                          fields=(prefix + name,))
    kind, constraint = schema[name]
    bases, optional = _parts(kind)
    stripped = text.strip()
    value: Any = _NOT_READ
    if optional and stripped.lower() in _NULLS:
        value = None
    elif constraint.parse is not None:
        value = constraint.parse(stripped)
    else:
        for base in bases:
            value = _read(base, stripped)
            if value is not _NOT_READ:
                break
    if value is _NOT_READ:
        raise ConfigError(f"{prefix + name} must be {describe(kind, constraint)}, got {text!r}", fields=(prefix + name,))
    check_value(cls, name, value, prefix)
    return value


_NOT_READ = object()


def parse_bool(text: str) -> bool | None:
    """``true``/``yes``/``on``/``1`` -> True, ``false``/``no``/``off``/``0`` -> False, else None."""
    text = text.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _read(base: Any, text: str) -> Any:
    try:
        if base is bool:
            value = parse_bool(text)
            return _NOT_READ if value is None else value
        if base is int:
            return int(text)
        if base is float:
            return float(text)
        if base is str:
            return text
    except ValueError:
        return _NOT_READ
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:  # includes characters YAML does not allow
        return _NOT_READ


def convert_all(cls: type, values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``values`` with each text value of a field that is not text read by :func:`convert`."""
    schema = _schema(cls)
    out = {}
    for name, value in values.items():
        if isinstance(value, str) and name in schema and str not in _parts(schema[name][0])[0]:
            value = convert(cls, name, value, prefix)
        out[name] = value
    return out
