"""Errors metalab raises for bad input: each says what was expected, what came, and the fix."""


class MetalabError(Exception):
    """Base class of every error metalab raises for the user to act on."""


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
