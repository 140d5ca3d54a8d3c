"""Classical bandit strategies on the bandit family's fixed tasks: the Gittins index matches
the published table, UCB1 and Thompson sampling learn (sublinear regret, far above random)."""

import numpy as np
import pytest

from metalab.errors import ConfigError
from metalab.evaluation.bandits import (
    STRATEGIES, argmax_random_ties, evaluate_strategy, gittins_index, gittins_table, play,
)
from metalab.tasks.bandit import Bandit, BanditTrials
from metalab.tasks.family import TaskShape
from metalab.tasks.stream import fixed_tasks


def test_gittins_index_of_a_uniform_prior_at_discount_0_9_is_the_tabulated_0_7029():
    # Gittins' tables for Bernoulli arms with a Beta(a, b) prior (Gittins, Glazebrook & Weber 2011):
    # 0.7029 at a = b = 1.
    assert gittins_index(1, 1, 0.9) == pytest.approx(0.7029, abs=1e-4)


def test_gittins_index_exceeds_the_posterior_mean_and_orders_states():
    table = gittins_table(20, 0.95)
    means = (1 + np.arange(21))[:, None] / (2 + np.add.outer(np.arange(21), np.arange(21)))
    valid = ~np.isnan(table)
    assert (table[valid] > means[valid]).all()  # the value of information
    assert (np.diff(table[:10, 0]) > 0).all() and (np.diff(table[0, :10]) < 0).all()  # successes up, failures down
    assert table[5, 5] < table[1, 1]  # same mean, less to learn


def test_ties_are_broken_at_random():
    rng = np.random.default_rng(0)
    picks = argmax_random_ties(np.zeros((4000, 4)), rng)
    assert set(picks.tolist()) == {0, 1, 2, 3} and abs(np.bincount(picks).min() - 1000) < 120


def test_ucb1_and_thompson_regret_grows_sublinearly_and_beats_random_by_far():
    family = Bandit("test")
    results = {(name, n): evaluate_strategy(name, family, TaskShape(5, n, 1), episodes=200)
               for name in ("random", "ucb1", "thompson") for n in (100, 800)}
    for name in ("ucb1", "thompson"):
        short, long = results[name, 100].breakdown["regret"][0], results[name, 800].breakdown["regret"][0]
        assert long < 0.5 * 8 * short, (name, short, long)  # 8x the pulls, well under 8x the regret
        for n in (100, 800):
            ours, ours_ci = results[name, n].breakdown["regret"]
            random, random_ci = results["random", n].breakdown["regret"]
            assert random - ours > 3 * (ours_ci + random_ci), (name, n)  # pseudo-regret: no task-to-task spread
            assert results[name, n].mean > results["random", n].mean
    assert results["random", 800].breakdown["regret"][0] > 7 * results["random", 100].breakdown["regret"][0]


def test_every_strategy_beats_random_and_gittins_is_best_on_short_trials():
    shape = TaskShape(5, 10, 4)
    scores = {name: evaluate_strategy(name, Bandit("test"), shape, episodes=300) for name in STRATEGIES}
    for name, result in scores.items():
        assert result.tasks == 300 and result.ci95 > 0 and result.breakdown["regret"][0] > 0
        if name != "random":
            assert result.mean > scores["random"].mean + scores["random"].ci95, name
    assert max(scores, key=lambda name: scores[name].mean) == "gittins"


def test_strategies_meet_the_same_payouts_and_replay_exactly():
    episode = next(fixed_tasks(Bandit("test"), TaskShape(5, 30, 2), seed=0, count=20, batch=20))
    trials = BanditTrials(episode)
    always_first = lambda s, f, t, n, rng: np.zeros(len(s), dtype=np.int64)  # noqa: E731
    outcome = play(always_first, trials, np.random.default_rng(0))
    assert np.array_equal(outcome[..., 0], trials.payouts[..., 0].sum(-1))
    thompson = STRATEGIES["thompson"]()
    first, again = (play(thompson, trials, np.random.default_rng(1)) for _ in range(2))
    assert np.array_equal(first, again)


def test_bad_strategy_inputs_are_named():
    with pytest.raises(ConfigError, match="unknown bandit strategy 'ucb2'"):
        evaluate_strategy("ucb2", Bandit("test"), TaskShape(5, 10, 1), episodes=2)
    with pytest.raises(ConfigError, match=r"discount must be in \(0, 1\)"):
        gittins_table(10, 1.0)
