"""The one way configuration values are checked: small functions that raise a
:class:`~metalab.errors.ConfigError` naming the field, the value and what it must be."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from metalab.errors import ConfigError


def check_int(field: str, value: Any, minimum: int, meaning: str = "") -> None:
    """``value`` is an integer (not a bool) >= ``minimum``; ``meaning`` explains special values."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{field} must be an integer >= {minimum}{meaning}, got {value!r}", fields=(field,))


def check_positive(field: str, value: Any) -> None:
    """``value`` is a real number > 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ConfigError(f"{field} must be a positive number, got {value!r}", fields=(field,))


def check_choice(field: str, value: Any, choices: Collection[Any]) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{field} must be one of {sorted(choices)}, got {value!r}", fields=(field,))
