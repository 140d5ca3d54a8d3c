"""Training configuration: plain data, from the CLI or a YAML file, stored in every checkpoint."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from metalab.algorithms import ALGORITHMS, learner_config
from metalab.checks import SEED_MAX, convert_all, fail, option, validate
from metalab.data.preprocess import Preprocess, preprocess_config
from metalab.data.splits import SPLITS, TRAIN_PARTS
from metalab.errors import ConfigError
from metalab.tasks.alphabets import ImageTaskOptions
from metalab.tasks.registry import TRAIN_AND_VAL, check_task_options, dataset_family
from metalab.training.defaults import learner_defaults, training_defaults

SCHEDULES = ("cosine", "step", "constant")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
MAX_THREADS = 4096
LEARNER_DEFAULT = " (None: the learner's measured default, metalab.training.defaults)"
DEVICE = {"pattern": r"auto|cpu|mps|cuda(:\d+)?", "meaning": "auto, cpu, cuda or cuda:N"}  # a device option


def parse_duration(text: str) -> float:
    """``'90s'``, ``'10m'``, ``'1.5h'`` or ``'600'`` (seconds) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not match:
        raise ConfigError(f"cannot read the duration {text!r}; write e.g. 90s, 10m or 1h", fields=("budget",))
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a meta-training run depends on.

    Exactly one of ``steps`` (meta-updates) and ``budget`` (seconds of wall time: converted to a
    step count after timing the first steps and re-estimated from the recent pace as the run
    goes, so that the run and its learning-rate schedule end at the budget) sets the length.

    Attributes:
        algorithm: a name from :data:`metalab.algorithms.ALGORITHMS`.
        dataset: a task family (:data:`metalab.tasks.registry.FAMILIES`: ``omniglot``,
            ``sinusoid``, ...), ``NAME:PATH`` for one that reads a file or folder, or a folder of
            class sub-folders; checked when the config is made, before any data is read.
        split: Omniglot split (``vinyals`` or ``lake``).
        train_part: the split's part to train on: ``train``, or ``train+val`` (training and
            validation classes together, Omniglot only: the papers' 1200 characters) for a
            final fit once settings are chosen; validation then sees training classes, so
            evaluate ``last.pt``, not ``best.pt``.
        data_dir: where the data is; default ``$METALAB_DATA`` then the download cache.
        ways, shots, queries, meta_batch: the training task shape and tasks per update.
        optimizer: ``adam``, ``rmsprop`` (squared-gradient decay 0.95, momentum 0.9: the
            RMSprop Santoro et al. 2016 trained MANN with, at lr 1e-4), or ``sgd`` (plain
            steps, no momentum: with Reptile at lr 1 and a schedule to zero this is Nichol et
            al. 2018's outer update, Algorithm 2, theta <- theta + eps (mean phi - theta)).
        lr, weight_decay, schedule, warmup: the optimizer's learning rate and weight decay, and
            the learning-rate schedule (cosine to zero, or halving every ``lr_step`` steps as
            Snell et al. 2017, or constant).
            ``queries``, ``meta_batch`` and ``lr`` left None take the learner's measured
            defaults for the task family (:func:`metalab.training.defaults.training_defaults`),
            filled in when the config is made.
        grad_clip: clip the global gradient norm to this (None: no clipping).
        val_every, val_episodes, val_ways, val_shots, val_queries: periodic validation on fixed
            episodes of the split's validation part (ways/shots default to the training ones).
            ``val_every`` None: every 500 steps; with a ``budget``, which validations share,
            every 500 steps or less often, so that a validation (timed at step 0) costs at
            most a tenth of the training time between two (at the pace of the first steps; a
            3-minute Omniglot run otherwise spent a quarter to two fifths of its budget
            validating). The validations at step 0 and at the end always run.
        checkpoint_every: also write ``last.pt`` every this many steps between validations
            (None: only at validations), so a long run killed between validations loses at
            most this many steps; resuming from it equals the uninterrupted run.
        seed: seeds weight initialisation and the task stream.
        out: the run folder.
        device: ``auto`` (CUDA if available), ``cpu`` or ``cuda[:i]``.
        threads: CPU threads for PyTorch (None: PyTorch's default).
        workers, vmap: the learner's runtime options (:class:`metalab.algorithms.Runtime`):
            threads sharing a meta-batch's tasks (0: one per PyTorch thread) and whether to
            vmap over tasks (None: the learner's choice). They change speed, not results
            (up to float rounding), so a resumed run may change them.
        learner: the algorithm's own hyperparameters (its ``Config`` fields); those with a
            measured default for the task family that differs from the ``Config``'s
            (:func:`metalab.training.defaults.learner_defaults`) are filled in when unstated.
        preprocess: image preprocessing (``size``, ``channels``, ``invert``).
        task: how image tasks are drawn (:class:`~metalab.tasks.alphabets.ImageTaskOptions`:
            ``within_alphabet``, and for training only ``quarter_turns`` and ``affine``).
    """

    algorithm: str = option("protonet", choices=ALGORITHMS)
    dataset: str = "omniglot"
    split: str = option("vinyals", choices=SPLITS, meaning=" (the Omniglot split)")
    train_part: str = option("train", choices=TRAIN_PARTS, meaning=" (the split's part trained on)")
    data_dir: str | None = None
    ways: int = option(20, minimum=2)
    shots: int = option(5, minimum=1)
    queries: int | None = option(None, minimum=1, meaning=LEARNER_DEFAULT)
    meta_batch: int | None = option(None, minimum=1, meaning=LEARNER_DEFAULT)
    steps: int | None = option(None, minimum=1)
    budget: float | None = option(None, above=0, parse=parse_duration, meaning=" (seconds, or 90s, 10m, 1h)")
    optimizer: str = option("adam", choices=OPTIMIZERS)
    lr: float | None = option(None, above=0, meaning=LEARNER_DEFAULT)
    weight_decay: float = option(0.0, minimum=0)
    schedule: str = option("cosine", choices=SCHEDULES)
    lr_step: int = option(2000, minimum=1)
    warmup: int = option(0, minimum=0)
    grad_clip: float | None = option(None, above=0, meaning=" (None: no clipping)")
    val_every: int | None = option(None, minimum=1, meaning=" (None: 500, or with a budget as keeps validation under a tenth of it)")
    checkpoint_every: int | None = option(None, minimum=1, meaning=" (None: at validations only)")
    val_episodes: int = option(100, minimum=1)
    val_ways: int | None = option(None, minimum=2, meaning=" (None: as ways)")
    val_shots: int | None = option(None, minimum=1, meaning=" (None: as shots)")
    val_queries: int | None = option(None, minimum=1, meaning=" (None: as queries)")
    seed: int = option(0, minimum=0, maximum=SEED_MAX)
    out: str = "runs/run"
    device: str = option("auto", **DEVICE)
    threads: int | None = option(None, minimum=1, maximum=MAX_THREADS, meaning=" (None: PyTorch's default)")
    workers: int = option(0, minimum=0, maximum=MAX_THREADS, meaning=" (0: one per CPU thread)")
    vmap: bool | None = option(None, meaning=" (None: the learner's choice)")
    learner: dict[str, Any] = option(default_factory=dict)
    preprocess: dict[str, Any] = option(default_factory=dict)
    task: dict[str, Any] = option(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self)
        family, _ = dataset_family(self.dataset)  # a known task family or an existing folder, before any data loads
        if self.train_part != "train" and family not in TRAIN_AND_VAL:
            fail(f"train_part {self.train_part!r} needs a family with a validation split of its classes "
                 f"({', '.join(TRAIN_AND_VAL)}), not {family!r}: leave train_part at 'train'", "train_part")
        for name, value in training_defaults(self.algorithm, family).items():
            if getattr(self, name) is None:  # resolved here, so a checkpoint stores what the run used
                object.__setattr__(self, name, value)
        if isinstance(self.learner, dict):
            object.__setattr__(self, "learner", {**learner_defaults(self.algorithm, family), **self.learner})
        if (self.steps is None) == (self.budget is None):
            fail("give exactly one of steps (a number of meta-updates) and budget (a duration such as 10m)",
                 "steps", "budget")
        learner_config(self.algorithm, self.learner)
        preprocess_config(self.preprocess)
        check_task_options(self.dataset, self.task)

    @property
    def validation_task(self) -> tuple[int, int, int]:
        return (self.val_ways or self.ways, self.val_shots or self.shots, self.val_queries or self.queries)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """From plain values (a YAML file, a checkpoint); text is read by each field's declared
        type (``lr: 1e-3``, ``budget: 10m``), the learner's values by its ``Config``."""
        if not isinstance(values, dict):
            raise ConfigError(f"training options must be a mapping of option: value, got {values!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown training option(s) {sorted(unknown, key=str)}; known: {sorted(known)}")
        values = convert_all(cls, values)
        learner, algorithm = values.get("learner"), values.get("algorithm", cls.algorithm)
        if isinstance(learner, dict) and isinstance(algorithm, str) and algorithm in ALGORITHMS:
            values["learner"] = convert_all(ALGORITHMS[algorithm].Config, learner)
        preprocess = values.get("preprocess")
        if isinstance(preprocess, dict):
            values["preprocess"] = convert_all(Preprocess, preprocess, "preprocess.")
        task = values.get("task")
        if isinstance(task, dict):
            values["task"] = convert_all(ImageTaskOptions, task, "task.")
        return cls(**values)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping of :class:`TrainConfig` fields (``budget`` may be ``10m``, ``90s``, ``1h``)."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist", fields=("config",)) from None
    except (OSError, ValueError) as error:  # a folder, unreadable, not text, a NUL byte
        raise ConfigError(f"cannot read the config file {path} ({error}); give a YAML file (see configs/)",
                          fields=("config",)) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}", fields=("config",)) from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of option: value", fields=("config",))
    if isinstance(values.get("budget"), str):
        values["budget"] = parse_duration(values["budget"])
    return values
