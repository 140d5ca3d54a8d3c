"""A learner's score over fixed, seeded test tasks, with a 95% confidence interval.

The interval is ``1.96 * std / sqrt(tasks)`` over per-task scores (the convention of Vinyals
et al. 2016 and Snell et al. 2017), never a pooled score over all queries. The task family
says what the score is (accuracy in percent, query MSE) and which direction is better; every
family's evaluation returns the one :class:`EvalResult`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from metalab.algorithms.base import MetaLearner
from metalab.evaluation.paper import paper_figure
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.stream import fixed_tasks


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Mean and 95% CI half-width of a per-task metric over fixed tasks.

    Attributes:
        metric: the metric's name (``accuracy`` in percent, ``mse``).
        mean, ci95: its mean over tasks and the 95% CI half-width.
        tasks: how many fixed tasks.
        seed: the fixed tasks' seed.
        task: what a task was (``ways``, ``shots``, ``queries``, the Omniglot split).
        higher_is_better: the metric's direction.
        paper, paper_source: the published figure for this learner and task, if any.
        summary: a few words on the task, e.g. ``5-way 1-shot``.
        scores: the metric of each task ``0..tasks-1`` in order (what paired comparisons of
            learners on the same tasks need); not part of :meth:`to_json`.
        breakdown: the family's secondary scores, ``name -> [mean, ci95]`` (scaled as the metric).
    """

    metric: str
    mean: float
    ci95: float
    tasks: int
    seed: int
    task: dict[str, Any]
    higher_is_better: bool = True
    paper: float | None = None
    paper_source: str | None = None
    summary: str = ""
    scores: tuple[float, ...] = dataclasses.field(default=(), repr=False)
    breakdown: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    @property
    def score(self) -> float:
        """Higher is better (validation keeps the best)."""
        return self.mean if self.higher_is_better else -self.mean

    def __str__(self) -> str:
        queries = self.task.get("queries")
        per = "" if queries is None else f", {queries} queries" + (" per class" if self.task.get("ways") else " each")
        return (
            f"{self.summary}: {self.metric} {self.mean:.4g} ± {self.ci95:.3g} (95% CI over {self.tasks} fixed "
            f"tasks{per}, seed {self.seed})"
        ) + "".join(f"\n  {k}: {m:.4g} ± {c:.3g}" for k, (m, c) in self.breakdown.items())

    def to_json(self) -> dict[str, Any]:
        """The ``eval --json`` keys: the task's description, ``<metric>: mean``, ``ci95``, ``paper``."""
        values = {**self.task, "metric": self.metric, self.metric: round(self.mean, 5), "ci95": round(self.ci95, 5),
                  "episodes": self.tasks, "seed": self.seed, "paper": self.paper, "paper_source": self.paper_source}
        if self.breakdown:
            values["breakdown"] = {k: {"mean": round(m, 5), "ci95": round(c, 5)} for k, (m, c) in self.breakdown.items()}
        return values


def result_from_dict(values: dict[str, Any]) -> EvalResult:
    """The result ``dataclasses.asdict`` wrote (checkpoints keep the best validation), also in
    the two older forms: accuracy results and regression (MSE) results."""
    if "metric" in values:
        return EvalResult(**values)
    metric = "mse" if "mse" in values else "accuracy"
    task = {k: values[k] for k in ("ways", "shots", "queries") if k in values}
    return EvalResult(metric, values[metric], values["ci95"], values["episodes"], values["seed"], task,
                      higher_is_better=metric != "mse")


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and ``1.96 * std / sqrt(n)`` (sample std; 0 for a single value)."""
    values = values.double()
    std = float(values.std()) if len(values) > 1 else 0.0
    return float(values.mean()), 1.96 * std / math.sqrt(len(values))


def evaluate(
    learner: MetaLearner,
    tasks: TaskFamily,
    *,
    ways: int | None = None,
    shots: int,
    queries: int = 15,
    episodes: int = 600,
    seed: int = 0,
    batch: int = 8,
    device: torch.device | str = "cpu",
) -> EvalResult:
    """Evaluate ``learner`` (in eval mode) on fixed tasks ``0..episodes-1`` of ``tasks``.

    ``ways`` is for families with classes (ignored by the others); ``queries`` is per class.
    """
    shape = TaskShape(ways, shots, queries)
    was_training = learner.training
    learner.eval()
    scores, parts = [], []
    try:
        for episode in fixed_tasks(tasks, shape, seed=seed, count=episodes, batch=batch):
            episode = episode.to(device)
            outputs = learner.predict(episode)
            scores.append(tasks.task_scores(outputs, episode.query_y).cpu())
            parts.append({k: v.cpu() for k, v in tasks.score_breakdown(outputs, episode.query_y).items()})
    finally:
        learner.train(was_training)
    per_task = torch.cat(scores).double() * tasks.scale
    mean, ci = mean_ci95(per_task)
    breakdown = {k: list(mean_ci95(torch.cat([p[k] for p in parts]) * tasks.scale)) for k in parts[0]} if parts else {}
    task = tasks.describe(shape)
    paper = paper_figure(learner.name, tasks.source, task.get("ways"), shots, task.get("omniglot_split", "vinyals"))
    return EvalResult(
        tasks.metric, mean, ci, episodes, seed, task, tasks.higher_is_better,
        paper[0] if paper else None, paper[1] if paper else None, tasks.summary(shape), tuple(per_task.tolist()), breakdown,
    )
