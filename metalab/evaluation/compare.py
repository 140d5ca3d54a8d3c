"""Paired comparison of two learners scored on the same fixed tasks.

Two learners evaluated on the same tasks ``0..n-1`` give paired scores ``a_i, b_i``; the
per-task differences ``d_i = a_i - b_i`` remove the spread of task difficulty that the two
separate confidence intervals still carry, so a difference far smaller than either interval
can be significant. Reported: the mean difference with the 95% interval
``1.96 * std(d) / sqrt(n)`` (the convention of :func:`metalab.evaluation.evaluate.mean_ci95`),
the share of tasks each learner wins, the two-sided Wilcoxon signed-rank test (Wilcoxon 1945;
no normality assumed: per-task accuracies are bounded and skewed) and the two-sided paired
t-test (justified when the differences are roughly normal, e.g. many queries per task).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import torch

from metalab.errors import ConfigError
from metalab.evaluation.evaluate import mean_ci95


@dataclasses.dataclass(frozen=True)
class PairedTest:
    """A test's statistic and two-sided p-value (``p`` is 1 when every difference is 0)."""

    statistic: float
    p: float


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """``a`` minus ``b`` on the same tasks.

    Attributes:
        a, b: the two learners' names.
        metric: the metric compared; ``higher_is_better`` its direction.
        difference, ci95: mean of ``a_i - b_i`` over tasks and its 95% CI half-width.
        a_better, b_better: share of tasks (0..1) on which each learner scored better.
        tasks: how many paired tasks.
        wilcoxon, ttest: the Wilcoxon signed-rank and paired t-tests of ``a_i - b_i``.
    """

    a: str
    b: str
    metric: str
    higher_is_better: bool
    difference: float
    ci95: float
    a_better: float
    b_better: float
    tasks: int
    wilcoxon: PairedTest
    ttest: PairedTest

    def __str__(self) -> str:
        better = "neither"
        if self.difference:
            better = self.a if (self.difference > 0) == self.higher_is_better else self.b
        return (
            f"{self.a} - {self.b}: {self.metric} {self.difference:+.4g} ± {self.ci95:.3g} (95% CI over {self.tasks} "
            f"paired tasks); better on {100 * self.a_better:.1f}% / {100 * self.b_better:.1f}% of tasks; "
            f"Wilcoxon p = {self.wilcoxon.p:.3g}, paired t p = {self.ttest.p:.3g}; better on average: {better}"
        )

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()}


def paired_difference(
    a: str, a_scores: Sequence[float], b: str, b_scores: Sequence[float], *,
    metric: str, higher_is_better: bool = True,
) -> PairedDifference:
    """Compare per-task scores ``a_scores[i]`` and ``b_scores[i]`` of the same task ``i``.

    Raises :class:`ConfigError` when the two lists are not paired (different lengths) or have
    fewer than 2 tasks.
    """
    stats = _scipy_stats()
    x = torch.as_tensor(list(a_scores), dtype=torch.float64)
    y = torch.as_tensor(list(b_scores), dtype=torch.float64)
    if len(x) != len(y):
        raise ConfigError(f"paired scores need the same tasks: {a} has {len(x)} scores, {b} has {len(y)}")
    if len(x) < 2:
        raise ConfigError(f"a paired comparison needs at least 2 tasks, got {len(x)}", fields=("episodes",))
    d = x - y
    mean, ci = mean_ci95(d)
    nonzero = bool((d != 0).any())
    if nonzero:
        w = stats.wilcoxon(x.numpy(), y.numpy(), zero_method="wilcox", alternative="two-sided")
        wilcoxon = PairedTest(float(w.statistic), float(w.pvalue))
    else:  # identical scores on every task: no evidence of a difference
        wilcoxon = PairedTest(0.0, 1.0)
    if float(d.std()) > 0:
        t = stats.ttest_rel(x.numpy(), y.numpy())
        ttest = PairedTest(float(t.statistic), float(t.pvalue))
    else:  # a constant difference: t is 0 (p = 1) if it is 0, infinite (p = 0) otherwise
        ttest = PairedTest(0.0, 1.0) if not nonzero else PairedTest(math.copysign(math.inf, mean), 0.0)
    wins = (d > 0) if higher_is_better else (d < 0)
    losses = (d < 0) if higher_is_better else (d > 0)
    return PairedDifference(
        a, b, metric, higher_is_better, mean, ci, float(wins.double().mean()), float(losses.double().mean()),
        len(d), wilcoxon, ttest,
    )


def _scipy_stats() -> Any:
    try:
        from scipy import stats
    except ImportError as error:
        raise ImportError("paired tests need scipy: pip install 'metalab[results]'") from error
    return stats


def all_pairs(
    names: Sequence[str], scores: Sequence[Sequence[float]], *, metric: str, higher_is_better: bool = True,
) -> list[PairedDifference]:
    """:func:`paired_difference` of every pair ``(i, j)``, ``i < j``, in the order given.

    With many pairs, correct the p-values for multiple testing (e.g. Holm) before reading
    any one of them as significant.
    """
    if len(names) != len(scores):
        raise ConfigError(f"{len(names)} names for {len(scores)} score lists")
    if len(names) < 2:
        raise ConfigError(f"a comparison needs at least two runs, got {len(names)}")
    return [
        paired_difference(names[i], scores[i], names[j], scores[j], metric=metric, higher_is_better=higher_is_better)
        for i in range(len(names)) for j in range(i + 1, len(names))
    ]
