"""Accuracy over fixed, seeded test episodes, with a 95% confidence interval.

The interval is ``1.96 * std / sqrt(episodes)`` over per-episode accuracies (the convention
of Vinyals et al. 2016 and Snell et al. 2017), never a pooled accuracy over all queries.
Regression task families (sinusoid) report the per-task query mean squared error the same
way (:class:`RegressionResult`).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from metalab.algorithms.base import MetaLearner
from metalab.data.dataset import FewShotDataset
from metalab.tasks.regression import RegressionTasks
from metalab.tasks.sampling import fixed_episodes


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Mean and 95% CI half-width of per-episode accuracy, both in percent."""

    accuracy: float
    ci95: float
    episodes: int
    ways: int
    shots: int
    queries: int
    seed: int

    def __str__(self) -> str:
        return (
            f"{self.ways}-way {self.shots}-shot: {self.accuracy:.2f}% ± {self.ci95:.2f} "
            f"(95% CI over {self.episodes} fixed episodes, {self.queries} queries per class, "
            f"seed {self.seed})"
        )

    @property
    def score(self) -> float:
        """Higher is better (validation keeps the best)."""
        return self.accuracy


@dataclasses.dataclass(frozen=True)
class RegressionResult:
    """Mean and 95% CI half-width of per-task query mean squared error."""

    mse: float
    ci95: float
    episodes: int
    shots: int
    queries: int
    seed: int

    def __str__(self) -> str:
        return (
            f"{self.shots}-shot: MSE {self.mse:.4f} ± {self.ci95:.4f} (95% CI over {self.episodes} fixed "
            f"tasks, {self.queries} query points each, seed {self.seed})"
        )

    @property
    def score(self) -> float:
        return -self.mse


def result_from_dict(values: dict) -> EvalResult | RegressionResult:
    """The result ``dataclasses.asdict`` wrote (checkpoints keep the best validation)."""
    return RegressionResult(**values) if "mse" in values else EvalResult(**values)


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and ``1.96 * std / sqrt(n)`` (sample std; 0 for a single value)."""
    values = values.double()
    std = float(values.std()) if len(values) > 1 else 0.0
    return float(values.mean()), 1.96 * std / math.sqrt(len(values))


def evaluate(
    learner: MetaLearner,
    dataset: FewShotDataset | RegressionTasks,
    *,
    ways: int | None,
    shots: int,
    queries: int = 15,
    episodes: int = 600,
    seed: int = 0,
    batch: int = 8,
    device: torch.device | str = "cpu",
) -> EvalResult | RegressionResult:
    """Evaluate ``learner`` (in eval mode) on fixed episodes ``0..episodes-1`` of ``dataset``.

    A regression family (``ways`` is then ignored) gives a :class:`RegressionResult`.
    """
    regression = isinstance(dataset, RegressionTasks)
    if regression:
        tasks = dataset.fixed_episodes(shots, queries, seed=seed, count=episodes, batch=batch)
    else:
        tasks = fixed_episodes(dataset, ways, shots, queries, seed=seed, count=episodes, batch=batch)
    was_training = learner.training
    learner.eval()
    scores = []
    try:
        for episode in tasks:
            episode = episode.to(device)
            outputs = learner.predict(episode)
            if regression:
                scores.append((outputs - episode.query_y).double().pow(2).flatten(1).mean(-1).cpu())
            else:
                scores.append((outputs.argmax(-1) == episode.query_y).double().mean(-1).cpu())
    finally:
        learner.train(was_training)
    if regression:
        return RegressionResult(*mean_ci95(torch.cat(scores)), episodes, shots, queries, seed)
    mean, ci = mean_ci95(torch.cat(scores) * 100)
    return EvalResult(mean, ci, episodes, ways, shots, queries, seed)
