"""Accuracy over fixed, seeded test episodes, with a 95% confidence interval.

The interval is ``1.96 * std / sqrt(episodes)`` over per-episode accuracies (the convention
of Vinyals et al. 2016 and Snell et al. 2017), never a pooled accuracy over all queries.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from metalab.algorithms.base import MetaLearner
from metalab.data.dataset import FewShotDataset
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


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and ``1.96 * std / sqrt(n)`` (sample std; 0 for a single value)."""
    values = values.double()
    std = float(values.std()) if len(values) > 1 else 0.0
    return float(values.mean()), 1.96 * std / math.sqrt(len(values))


def evaluate(
    learner: MetaLearner,
    dataset: FewShotDataset,
    *,
    ways: int,
    shots: int,
    queries: int = 15,
    episodes: int = 600,
    seed: int = 0,
    batch: int = 8,
    device: torch.device | str = "cpu",
) -> EvalResult:
    """Evaluate ``learner`` (in eval mode) on fixed episodes ``0..episodes-1`` of ``dataset``."""
    was_training = learner.training
    learner.eval()
    accuracies = []
    try:
        for episode in fixed_episodes(dataset, ways, shots, queries, seed=seed, count=episodes, batch=batch):
            episode = episode.to(device)
            logits = learner.predict(episode)
            accuracies.append((logits.argmax(-1) == episode.query_y).double().mean(-1).cpu())
    finally:
        learner.train(was_training)
    mean, ci = mean_ci95(torch.cat(accuracies) * 100)
    return EvalResult(mean, ci, episodes, ways, shots, queries, seed)
