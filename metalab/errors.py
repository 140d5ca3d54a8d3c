"""Errors metalab raises for bad input: each says what was expected, what came, and the fix.

An error about a configuration value names the field (``ways``, ``inner_lr``) in its message
and in ``fields``; the command line adds the flag that sets each field.
"""

from __future__ import annotations


class MetalabError(Exception):
    """Base class of every error metalab raises for the user to act on.

    Attributes:
        fields: the configuration fields the error is about (may be empty).
    """

    def __init__(self, message: str = "", *, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = tuple(fields)


class DataError(MetalabError, ValueError):
    """Data is missing, unreadable, or too small for the requested task."""


class ConfigError(MetalabError, ValueError):
    """A configuration value is out of range or inconsistent with another."""


class CheckpointError(MetalabError):
    """A checkpoint is missing, corrupt, or was not written by metalab."""


class TrainingDivergedError(MetalabError, FloatingPointError):
    """The training loss became NaN or infinite."""


class MetabaseError(MetalabError):
    """A meta-knowledge base cannot be opened or read (unreachable URL, missing file, bad format)."""


class ModelFileError(MetalabError):
    """A saved model is missing, unreadable, or names types metalab does not load."""
