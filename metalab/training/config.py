"""Training configuration: plain data, from the CLI or a YAML file, stored in every checkpoint."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from metalab.errors import ConfigError

SCHEDULES = ("cosine", "step", "constant")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a meta-training run depends on.

    Exactly one of ``steps`` (meta-updates) and ``budget`` (seconds of training, converted to a
    step count after timing the first steps, so that the learning-rate schedule still ends on
    time and a resumed run stays exact) sets the length.

    Attributes:
        algorithm: a name from :data:`metalab.algorithms.ALGORITHMS`.
        dataset: ``omniglot`` or a folder of class sub-folders.
        split: Omniglot split (``vinyals`` or ``lake``).
        data_dir: where the data is; default ``$METALAB_DATA`` then the download cache.
        ways, shots, queries, meta_batch: the training task shape and tasks per update.
        lr, weight_decay, schedule, warmup: Adam and its learning-rate schedule
            (cosine to zero, or halving every ``lr_step`` steps as Snell et al. 2017, or constant).
        grad_clip: clip the global gradient norm to this (None: no clipping).
        val_every, val_episodes, val_ways, val_shots, val_queries: periodic validation on fixed
            episodes of the split's validation part (ways/shots default to the training ones).
        seed: seeds weight initialisation and the task stream.
        out: the run folder.
        device: ``auto`` (CUDA if available), ``cpu`` or ``cuda[:i]``.
        threads: CPU threads for PyTorch (None: PyTorch's default).
        workers, vmap: the learner's runtime options (:class:`metalab.algorithms.Runtime`):
            threads sharing a meta-batch's tasks (0: one per PyTorch thread) and whether to
            vmap over tasks (None: the learner's choice). They change speed, not results
            (up to float rounding), so a resumed run may change them.
        learner: the algorithm's own hyperparameters (its ``Config`` fields).
        preprocess: image preprocessing (``size``, ``channels``, ``invert``).
    """

    algorithm: str = "protonet"
    dataset: str = "omniglot"
    split: str = "vinyals"
    data_dir: str | None = None
    ways: int = 20
    shots: int = 5
    queries: int = 15
    meta_batch: int = 1
    steps: int | None = None
    budget: float | None = None
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    lr_step: int = 2000
    warmup: int = 0
    grad_clip: float | None = None
    val_every: int = 500
    val_episodes: int = 100
    val_ways: int | None = None
    val_shots: int | None = None
    val_queries: int | None = None
    seed: int = 0
    out: str = "runs/run"
    device: str = "auto"
    threads: int | None = None
    workers: int = 0
    vmap: bool | None = None
    learner: dict[str, Any] = dataclasses.field(default_factory=dict)
    preprocess: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.steps is None) == (self.budget is None):
            raise ConfigError("give exactly one of steps (a number of meta-updates) and budget (a duration such as 10m)",
                              fields=("steps", "budget"))
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}", fields=("steps",))
        if self.budget is not None and self.budget <= 0:
            raise ConfigError(f"budget must be a positive number of seconds, got {self.budget}", fields=("budget",))
        if not (self.lr > 0):
            raise ConfigError(f"lr must be positive, got {self.lr}", fields=("lr",))
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}", fields=("schedule",))
        for name in ("meta_batch", "val_every", "val_episodes", "lr_step"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}", fields=(name,))
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 0:
            raise ConfigError(f"workers must be an integer >= 0 (0: one per CPU thread), got {self.workers!r}",
                              fields=("workers",))
        if self.vmap not in (None, True, False):
            raise ConfigError(f"vmap must be true, false or unset, got {self.vmap!r}", fields=("vmap",))

    @property
    def validation_task(self) -> tuple[int, int, int]:
        return (self.val_ways or self.ways, self.val_shots or self.shots, self.val_queries or self.queries)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown training option(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping of :class:`TrainConfig` fields (``budget`` may be ``10m``, ``90s``, ``1h``)."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of option: value")
    if isinstance(values.get("budget"), str):
        values["budget"] = parse_duration(values["budget"])
    return values


def parse_duration(text: str) -> float:
    """``'90s'``, ``'10m'``, ``'1.5h'`` or ``'600'`` (seconds) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not match:
        raise ConfigError(f"cannot read the duration {text!r}; write e.g. 90s, 10m or 1h")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]
