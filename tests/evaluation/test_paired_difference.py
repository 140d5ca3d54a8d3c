"""Paired differences of per-task scores: the interval, the direction, the degenerate cases."""

import math

import pytest
import torch

from metalab.errors import ConfigError
from metalab.evaluation.compare import all_pairs, paired_difference


def test_difference_and_ci_are_the_mean_and_1_96_sem_of_per_task_differences():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(50, generator=g, dtype=torch.float64)
    b = a - 0.1 + 0.05 * torch.randn(50, generator=g, dtype=torch.float64)
    result = paired_difference("a", a.tolist(), "b", b.tolist(), metric="accuracy")
    d = a - b
    assert result.difference == pytest.approx(float(d.mean()))
    assert result.ci95 == pytest.approx(1.96 * float(d.std()) / math.sqrt(50))
    assert result.ci95 < 1.96 * float(a.std()) / math.sqrt(50)  # pairing removes the task spread
    assert result.wilcoxon.p < 1e-6 and result.ttest.p < 1e-6 and result.ttest.statistic > 0
    assert result.a_better > 0.9


def test_lower_is_better_metrics_count_wins_for_the_lower_score():
    result = paired_difference("a", [1.0, 2.0, 3.0, 4.0], "b", [2.0, 3.0, 3.0, 5.5], metric="mse",
                               higher_is_better=False)
    assert result.difference < 0
    assert result.a_better == 0.75 and result.b_better == 0.0
    assert str(result).endswith("better on average: a")


def test_unpaired_or_too_short_score_lists_are_errors():
    with pytest.raises(ConfigError, match="same tasks: a has 3 scores, b has 2"):
        paired_difference("a", [1, 2, 3], "b", [1, 2], metric="accuracy")
    with pytest.raises(ConfigError, match="at least 2 tasks"):
        paired_difference("a", [1], "b", [1], metric="accuracy")


def test_a_constant_nonzero_shift_is_certain_by_t_and_significant_by_wilcoxon():
    result = paired_difference("a", [float(i) + 1 for i in range(20)], "b", [float(i) for i in range(20)],
                               metric="accuracy")
    assert result.difference == 1 and result.ci95 == 0
    assert result.ttest.p == 0 and result.wilcoxon.p < 1e-4


def test_all_pairs_covers_every_pair_once_in_order():
    pairs = all_pairs(["x", "y", "z"], [[1, 2, 3], [1, 2, 4], [0, 2, 3]], metric="accuracy")
    assert [(p.a, p.b) for p in pairs] == [("x", "y"), ("x", "z"), ("y", "z")]
    with pytest.raises(ConfigError, match="at least two runs"):
        all_pairs(["x"], [[1, 2]], metric="accuracy")
