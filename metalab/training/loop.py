"""The one training loop all meta-learners share.

Each step draws a meta-batch of episodes, computes the learner's meta-loss, and takes an
optimizer step (Adam or RMSprop); every ``val_every`` steps it validates on fixed episodes and
writes ``last.pt`` (and ``best.pt`` when validation improves) atomically (``checkpoint_every``:
``last.pt`` more often). ``resume=True``
continues from ``last.pt`` exactly: same parameters, optimizer moments, task stream and schedule.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from metalab.algorithms import ALGORITHMS, MetaLearner, Runtime, build_learner
from metalab.data.preprocess import Preprocess
from metalab.errors import ConfigError, TrainingDivergedError
from metalab.evaluation.evaluate import EvalResult, evaluate, result_from_dict
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.seeding import RANK_SALT, derive_seed
from metalab.tasks.stream import TaskStream
from metalab.training import distributed
from metalab.training.distributed import Ranks
from metalab.training.checkpoint import load_checkpoint, save_checkpoint
from metalab.training.config import TrainConfig
from metalab.training.metrics import MetricsLog, plot_curve

_CALIBRATION_STEPS = 10  # steps timed before a --budget becomes a step count
_REESTIMATE_EVERY = 20  # steps between re-estimates of a --budget's step count from the recent pace
_LOG_EVERY = 50  # steps between training-loss records
_VAL_EVERY = 500  # steps between validations when the config does not say
_VAL_SHARE = 0.1  # with a budget and no val_every: validations take at most this share of the time


@dataclasses.dataclass
class TrainResult:
    """Where a run ended: its folder, steps taken and best validation."""

    run: Path
    steps: int
    best_step: int
    best_val: EvalResult | None
    elapsed: float


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for but CUDA is not available; use device cpu", fields=("device",))
    return device


def check_run_folder(out: str | Path, resume: bool) -> None:
    """Before anything is loaded: ``out`` can be a run folder, holds a run to resume if
    ``resume``, and holds none otherwise (a run is never overwritten or started unasked)."""
    folder = Path(out)
    try:
        for path in (folder, *folder.parents):
            if path.exists():
                if not path.is_dir():
                    raise ConfigError(f"the run folder {folder} cannot be made: {path} is a file; choose another "
                                      "run folder (out)", fields=("out",))
                break
    except (ValueError, OSError) as error:  # a NUL byte, a name too long
        raise ConfigError(f"the run folder {str(out)!r} is not a usable path ({error}); choose another run "
                          "folder (out)", fields=("out",)) from None
    last = folder / "last.pt"
    if resume and not last.exists():
        raise ConfigError(f"nothing to resume: {last} does not exist; give the folder of an earlier run (out), "
                          "or leave out resume to start a new run", fields=("resume", "out"))
    if not resume and last.exists():
        raise ConfigError(
            f"{folder} already holds a run (last.pt at step {load_checkpoint(last)['step']}); "
            "resume it (resume) or choose another run folder (out)", fields=("resume", "out"),
        )


def learning_rate(config: TrainConfig, step: int, total: int | None) -> float:
    """The schedule: linear warm-up, then cosine to zero over ``total``, halving, or constant."""
    if config.warmup and step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    if config.schedule == "step":
        return config.lr * 0.5 ** (step // config.lr_step)
    if config.schedule == "cosine" and total:
        progress = (step - config.warmup) / max(1, total - config.warmup)
        return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.lr


def make_optimizer(config: TrainConfig, parameters: Any) -> torch.optim.Optimizer:
    """``config.optimizer`` over ``parameters``: Adam; RMSprop with squared-gradient decay 0.95
    and momentum 0.9 (Santoro et al. 2016's MANN training; Graves 2013, Eqs. 38-41); or plain
    SGD (Reptile's outer step, Nichol et al. 2018, Algorithm 2)."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=config.lr, alpha=0.95, momentum=0.9,
                                   weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def learner_values(config: TrainConfig, family: TaskFamily, shape: TaskShape) -> dict[str, Any]:
    """The learner's hyperparameters: ``config.learner`` over what the task family suggests,
    under what its data fixes (image channels); only the learner's own fields are passed."""
    if config.algorithm not in ALGORITHMS:
        return dict(config.learner)  # build_learner names the known algorithms
    learner_class = ALGORITHMS[config.algorithm]
    if family.kind not in learner_class.task_kinds:
        able = sorted(name for name, cls in ALGORITHMS.items() if family.kind in cls.task_kinds)
        raise ConfigError(
            f"{config.algorithm} learns {' and '.join(sorted(learner_class.task_kinds))} tasks, but {family.name} "
            f"tasks are {family.kind}; use an algorithm that learns them: {', '.join(able)}", fields=("algorithm",),
        )
    fields = {f.name for f in dataclasses.fields(learner_class.Config)}
    implied, forced = family.learner_defaults(shape), family.learner_requirements(shape)
    return {**{k: v for k, v in implied.items() if k in fields}, **config.learner,
            **{k: v for k, v in forced.items() if k in fields}}


def new_learner(config: TrainConfig, family: TaskFamily, shape: TaskShape) -> MetaLearner:
    """The configured learner, initialised from ``config.seed`` without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return build_learner(config.algorithm, learner_values(config, family, shape))


class _Run:
    """The state of one run and the writing of its files (checkpoints, log, plot, config)."""

    def __init__(self, config: TrainConfig, learner: MetaLearner, command: list[str], ranks: Ranks) -> None:
        self.config, self.learner, self.command, self.ranks = config, learner, command, ranks
        self.folder = Path(config.out)
        self.step = 0
        self.total: int | None = config.steps
        self.best_val: EvalResult | None = None
        self.best_step = -1
        self.elapsed = 0.0
        self.validation_seconds = 0.0
        self.val_every = config.val_every or _VAL_EVERY  # a budget run without val_every sets it from its pace

    def state(self, optimizer: torch.optim.Optimizer, stream: TaskStream) -> dict[str, Any]:
        """The checkpoint; a collective call (every rank's task stream is gathered)."""
        learner = self.learner
        return {
            "algorithm": learner.name,
            "learner_config": dataclasses.asdict(learner.config),
            "preprocess": Preprocess(**self.config.preprocess).to_dict(),
            "model": learner.state_dict(),
            "optimizer": optimizer.state_dict(),
            "streams": distributed.gather(stream.state_dict(), self.ranks),
            "config": self.config.to_dict(),
            "command": self.command,
            "step": self.step,
            "total_steps": self.total,
            "elapsed": self.elapsed,
            "val_every": self.val_every,
            "best": {"step": self.best_step, "val": dataclasses.asdict(self.best_val) if self.best_val else None},
        }

    def restore(self, state: dict[str, Any], optimizer: torch.optim.Optimizer, stream: TaskStream) -> None:
        if len(state["streams"]) != self.ranks.world_size:
            raise ConfigError(
                f"{self.folder} was trained with {len(state['streams'])} process(es); resume it with "
                f"as many, not {self.ranks.world_size}", fields=("resume",),
            )
        self.learner.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        stream.load_state_dict(state["streams"][self.ranks.rank])
        self.step, self.total, self.elapsed = state["step"], state["total_steps"], state["elapsed"]
        self.val_every = state.get("val_every", self.val_every)  # absent before budget-paced validation
        self.best_step = state["best"]["step"]
        self.best_val = result_from_dict(state["best"]["val"]) if state["best"]["val"] else None


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    learner: MetaLearner | None = None,
    command: list[str] | None = None,
    tasks: tuple[TaskFamily, TaskFamily] | None = None,
) -> TrainResult:
    """Meta-train ``config.algorithm`` and write the run folder ``config.out``.

    Files: ``config.yaml`` (resolved config and command), ``metrics.jsonl``, ``curve.png``,
    ``last.pt`` and ``best.pt``. Under ``torchrun`` every rank runs this function; see
    :mod:`metalab.training.distributed`.

    Args:
        resume: continue ``out/last.pt``; without it an existing checkpoint is an error.
        learner: use this learner instead of building ``config.algorithm`` (its ``name`` and
            ``config`` must let :func:`build_learner` rebuild it from the checkpoint).
        tasks: the ``(train, val)`` task families to use instead of loading ``config.dataset``.

    Raises:
        ConfigError: ``resume`` without ``out/last.pt``, or ``out/last.pt`` without ``resume``.
        TrainingDivergedError: the loss became NaN or infinite; ``last.pt`` then holds the
            last finite state.
    """
    check_run_folder(config.out, resume)
    if config.threads:
        torch.set_num_threads(config.threads)
    ranks, device = distributed.setup(resolve_device(config.device))
    preprocess = Preprocess(**config.preprocess)
    if tasks is None:
        tasks = tuple(
            load_tasks(config.dataset, part, split=config.split, data_dir=config.data_dir, preprocess=preprocess,
                       task=config.task)
            for part in (config.train_part, "val")
        )
    train_tasks, val_tasks = tasks
    shape, val_shape = TaskShape(config.ways, config.shots, config.queries), TaskShape(*config.validation_task)
    val_tasks.check(val_shape)
    stream_seed = config.seed if ranks.rank == 0 else derive_seed(config.seed, RANK_SALT + ranks.rank)
    stream = TaskStream(train_tasks, shape, config.meta_batch, stream_seed)

    learner = (learner or new_learner(config, train_tasks, shape)).to(device)
    learner.runtime = Runtime(workers=config.workers, vmap=config.vmap)
    optimizer = make_optimizer(config, learner.parameters())
    run = _Run(config, learner, command or sys.argv, ranks)
    last, best = run.folder / "last.pt", run.folder / "best.pt"
    if resume:
        run.restore(load_checkpoint(last, map_location=device), optimizer, stream)
    main = ranks.is_main
    if main:
        run.folder.mkdir(parents=True, exist_ok=True)
        (run.folder / "config.yaml").write_text(
            yaml.safe_dump({"command": run.command, "config": config.to_dict(),
                            "processes": ranks.world_size}, sort_keys=False)
        )
        log = MetricsLog(run.folder / "metrics.jsonl", resume_step=run.step if resume else None)

    def checkpoint(improved: bool) -> None:
        state = run.state(optimizer, stream)  # collective
        if main:
            if improved:
                save_checkpoint(state, best)
            save_checkpoint(state, last)

    def validate() -> None:
        clock = time.perf_counter()
        distributed.average_buffers(learner, ranks)
        improved = False
        if main:
            result = evaluate(
                learner, val_tasks, ways=val_shape.ways, shots=val_shape.shots, queries=val_shape.queries,
                episodes=config.val_episodes, seed=config.seed, device=device,
            )
            log.write({"step": run.step, f"val_{result.metric}": result.mean, "val_ci95": result.ci95})
            improved = run.best_val is None or result.score > run.best_val.score
            if improved:
                run.best_val, run.best_step = result, run.step
        checkpoint(improved)
        if main:
            plot_curve(log.records(), run.folder / "curve.png", f"{config.algorithm} on {train_tasks.name}",
                       metric=train_tasks.metric, scale=train_tasks.scale)
        run.validation_seconds = distributed.from_main(time.perf_counter() - clock, ranks)

    from tqdm import tqdm

    bar = tqdm(total=run.total, initial=run.step, disable=None if progress and main else True, unit="step",
               desc=f"{config.algorithm} {config.ways}w{config.shots}s")
    window: list[tuple[float, float]] = []
    # a --budget is wall time: the step count is estimated from the pace of the last steps (their
    # time less validations) and re-estimated every _REESTIMATE_EVERY steps, so that the run ends
    # at the budget however its pace drifts; a resumed budget run re-estimates the same way.
    pace_mark: tuple[float, int, float] | None = None  # (clock, step, validation seconds so far)
    validation_spent = 0.0
    first_step = run.step
    resumed = run.step > 0
    learner.train()
    started = time.perf_counter() - run.elapsed
    if run.step == 0:
        validate()
    while run.total is None or run.step < run.total:
        if config.budget is not None and pace_mark is None and run.step >= first_step + 2:
            pace_mark = (time.perf_counter(), run.step, validation_spent)
        batch = next(stream).to(device)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, run.step, run.total)
        learner.set_training_step(run.step)
        for result in learner.meta_losses(batch):  # one update each (several: truncated backpropagation)
            if distributed.any_rank(not torch.isfinite(result.loss), ranks):
                run.elapsed = time.perf_counter() - started
                checkpoint(improved=False)
                bar.close()
                if main:
                    log.write({"step": run.step, "event": "diverged", "loss": result.loss.item()})
                raise TrainingDivergedError(
                    f"the meta-loss is {result.loss.item()} at step {run.step}; training stopped. "
                    f"{last} holds the last finite state (step {run.step}) and {best} the best "
                    "validated one. Lower lr or set grad_clip, and start a new run from scratch",
                    fields=("lr", "grad_clip"),
                )
            optimizer.zero_grad(set_to_none=True)
            result.loss.backward()
            distributed.average_gradients(list(learner.parameters()), ranks)
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(learner.parameters(), config.grad_clip)
            optimizer.step()
        run.step += 1
        bar.update()
        scored = train_tasks.metrics(result.outputs, batch.query_y) if result.outputs is not None else {}
        window.append((result.loss.item(), scored.get(train_tasks.metric, float("nan"))))
        if pace_mark and run.step == pace_mark[1] + (_CALIBRATION_STEPS if run.total is None else _REESTIMATE_EVERY):
            now = time.perf_counter()
            per_step = (now - pace_mark[0] - (validation_spent - pace_mark[2])) / (run.step - pace_mark[1])
            if config.val_every is None and run.total is None and not resumed:  # first estimate of a new run
                run.val_every = distributed.from_main(_validation_interval(run.validation_seconds, per_step), ranks)
            run.total = distributed.from_main(_steps_within_budget(config, run, per_step, now - started), ranks)
            pace_mark = (now, run.step, validation_spent)
            bar.total = run.total
            bar.refresh()
        validating = run.step % run.val_every == 0 or run.step == run.total
        saving = not validating and config.checkpoint_every is not None and run.step % config.checkpoint_every == 0
        if main and (run.step % _LOG_EVERY == 0 or validating or saving):  # flushed at checkpoints: resumed logs match
            loss, score = (sum(v) / len(v) for v in zip(*window))
            run.elapsed = time.perf_counter() - started
            record = {"step": run.step, "loss": loss, "lr": optimizer.param_groups[0]["lr"],
                      "time": round(run.elapsed, 2)}
            if score == score:  # NaN for a learner that returns no outputs
                record[train_tasks.metric] = score
            log.write(record)
            bar.set_postfix(loss=f"{loss:.3f}")
            window.clear()
        if validating:
            run.elapsed = time.perf_counter() - started
            validate()
            validation_spent += run.validation_seconds
        elif saving:
            run.elapsed = time.perf_counter() - started
            checkpoint(improved=False)
    bar.close()
    return TrainResult(run.folder, run.step, run.best_step, run.best_val, run.elapsed)


def _steps_within_budget(config: TrainConfig, run: _Run, per_step: float, elapsed: float) -> int:
    """Total steps that fit what is left of ``config.budget`` at the measured pace, validations
    included (at least one more step)."""
    remaining = config.budget - elapsed - run.validation_seconds  # the last step validates too
    # s more steps cost s * per_step + (s / val_every) * one validation
    extra = int(remaining / (per_step + run.validation_seconds / run.val_every))
    return run.step + max(1, extra)


def _validation_interval(validation_seconds: float, per_step: float) -> int:
    """Steps between validations of a budget run that does not state ``val_every``: 500, or
    more where a validation (timed at step 0) costs over a tenth of 500 steps."""
    return max(_VAL_EVERY, math.ceil(validation_seconds / (_VAL_SHARE * max(per_step, 1e-9))))
