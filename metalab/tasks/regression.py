"""Regression task families: what a :class:`FewShotDataset` is for classification.

A family draws whole tasks (a function and points on it) rather than classes of stored
examples, and produces the same :class:`Episode` dataclass: ``support_x [K, d_in]``,
``support_y [K, d_out]`` float targets, ``query_x [Q, d_in]``, ``query_y [Q, d_out]``, and an
empty ``classes`` (a meta-batch stacks them with a leading task dimension).

Training tasks come from a :class:`RegressionStream` (resumable, like ``EpisodeStream``);
evaluation task ``i`` is a pure function of (family, part, seed, i, shots, queries):
:meth:`RegressionTasks.fixed`. The function of task ``i`` is drawn before its points, so it
is the same for every number of shots and queries.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode

PARTS = {"test": 0, "train": 1, "val": 2}  # salts: validation never sees the test tasks


def _check(shots: int, queries: int) -> None:
    for name, value in (("shots", shots), ("queries", queries)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


class RegressionTasks(abc.ABC):
    """A family of regression tasks, one part (``train``/``val``/``test``) of it.

    Attributes:
        name: shown in logs, e.g. ``sinusoid/test``.
        learner_defaults: hyperparameters the family implies for the optimization-based
            learners (backbone, input and output sizes, the paper's inner step size).
    """

    name: str
    learner_defaults: dict[str, Any]

    def __init__(self, part: str = "train") -> None:
        if part not in PARTS:
            raise ConfigError(f"part must be one of {sorted(PARTS)}, got {part!r}")
        self.part = part

    @abc.abstractmethod
    def draw_function(self, generator: torch.Generator) -> dict[str, float]:
        """The parameters of one task's function."""

    @abc.abstractmethod
    def draw_inputs(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``[count, d_in]`` input points."""

    @abc.abstractmethod
    def targets(self, x: torch.Tensor, function: dict[str, float]) -> torch.Tensor:
        """``[n, d_out]`` targets of the task ``function`` at ``[n, d_in]`` inputs."""

    def sample(self, shots: int, queries: int, generator: torch.Generator) -> Episode:
        """One task: ``shots`` support and ``queries`` query points of one random function."""
        return self.episode(self.draw_function(generator), self.draw_inputs(shots + queries, generator), shots)

    def episode(self, function: dict[str, float], x: torch.Tensor, shots: int) -> Episode:
        y = self.targets(x, function)
        return Episode(x[:shots], y[:shots], x[shots:], y[shots:], classes=torch.zeros(0, dtype=torch.long))

    def generator(self, seed: int, index: int) -> torch.Generator:
        """The generator of fixed task ``index``: a pure function of (part, seed, index)."""
        state = np.random.SeedSequence([seed, index, PARTS[self.part]]).generate_state(2, np.uint32)
        return torch.Generator().manual_seed(int(state.astype(np.uint64) @ [1, 1 << 31]))

    def fixed_function(self, seed: int, index: int) -> dict[str, float]:
        """The function of fixed task ``index`` (for plots)."""
        return self.draw_function(self.generator(seed, index))

    def fixed(self, shots: int, queries: int, seed: int, index: int) -> Episode:
        """Evaluation task ``index``: the same on every run, machine and algorithm."""
        _check(shots, queries)
        return self.sample(shots, queries, self.generator(seed, index))

    def fixed_episodes(
        self, shots: int, queries: int, *, seed: int, count: int, batch: int = 1
    ) -> Iterator[Episode]:
        """Fixed tasks ``0..count-1`` in meta-batches of up to ``batch``."""
        for start in range(0, count, batch):
            stop = min(start + batch, count)
            yield Episode.stack([self.fixed(shots, queries, seed, i) for i in range(start, stop)])

    def stream(self, shots: int, queries: int, meta_batch: int, seed: int) -> RegressionStream:
        return RegressionStream(self, shots, queries, meta_batch, seed)


class RegressionStream:
    """Endless meta-batches of random training tasks, resumable from :meth:`state_dict`."""

    def __init__(self, family: RegressionTasks, shots: int, queries: int, meta_batch: int, seed: int) -> None:
        _check(shots, queries)
        if meta_batch < 1:
            raise ConfigError(f"meta_batch must be >= 1, got {meta_batch}")
        self.family, self.shots, self.queries, self.meta_batch = family, shots, queries, meta_batch
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[Episode]:
        return self

    def __next__(self) -> Episode:
        return Episode.stack(
            [self.family.sample(self.shots, self.queries, self.generator) for _ in range(self.meta_batch)]
        )

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


@dataclasses.dataclass(frozen=True)
class _Range:
    low: float
    high: float

    def draw(self, generator: torch.Generator, *shape: int) -> torch.Tensor:
        return self.low + (self.high - self.low) * torch.rand(*shape, generator=generator)


class Sinusoid(RegressionTasks):
    """Finn et al. 2017 (Sec. 5.1): ``y = A sin(x + phase)``, ``A ~ U[0.1, 5]``,
    ``phase ~ U[0, pi]``, ``x ~ U[-5, 5]``; learners default to the 40-40 ReLU MLP and one
    inner step of size 0.01 (``eval_inner_steps`` = the training steps), tasks vmapped
    (13x faster than a loop over tasks for this MLP)."""

    amplitude = _Range(0.1, 5.0)
    phase = _Range(0.0, math.pi)
    x = _Range(-5.0, 5.0)
    learner_defaults = {"backbone": "mlp", "in_channels": 1, "hidden": 40, "outputs": 1,
                        "inner_lr": 0.01, "eval_inner_steps": None, "vmap": True}

    def __init__(self, part: str = "train") -> None:
        super().__init__(part)
        self.name = f"sinusoid/{part}"

    def draw_function(self, generator: torch.Generator) -> dict[str, float]:
        return {"amplitude": float(self.amplitude.draw(generator, 1)), "phase": float(self.phase.draw(generator, 1))}

    def draw_inputs(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return self.x.draw(generator, count, 1)

    def targets(self, x: torch.Tensor, function: dict[str, float]) -> torch.Tensor:
        return function["amplitude"] * torch.sin(x + function["phase"])


REGRESSION_FAMILIES: dict[str, type[RegressionTasks]] = {"sinusoid": Sinusoid}
