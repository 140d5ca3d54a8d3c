"""Classical strategies for Bernoulli bandits, scored on the bandit family's fixed tasks.

The comparison of Duan et al. (2016, Table 1): random, epsilon-greedy, greedy, UCB1 (Auer et
al. 2002), Thompson sampling with a Beta(1, 1) prior (Thompson 1933) and Gittins indices
(Gittins 1979). Every strategy plays all trials of a batch at once (numpy, vectorised over
tasks and trials) against the reward tables of :class:`metalab.tasks.bandit.BanditTrials`,
so each strategy meets the same payouts as a meta-learner on the same fixed tasks. A strategy
is ``choose(successes [B, k], failures [B, k], t, n, rng) -> arms [B]`` with ``t`` the pulls
taken so far of ``n``; its own randomness comes from the numpy Generator ``rng``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch

from metalab.errors import ConfigError
from metalab.evaluation.evaluate import EvalResult, mean_ci95
from metalab.tasks.bandit import REGRET, TOTAL, Bandit, BanditTrials
from metalab.tasks.family import TaskShape
from metalab.tasks.seeding import derive_seed
from metalab.tasks.stream import fixed_tasks

Strategy = Callable[[np.ndarray, np.ndarray, int, int, np.random.Generator], np.ndarray]
_STRATEGY_SALT = 1 << 41  # a strategy's own random stream, apart from the tasks'


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The index of each row's largest value, ties broken uniformly at random: ``[B, k]`` -> ``[B]``."""
    best = values == values.max(-1, keepdims=True)
    return np.argmax(np.where(best, rng.random(values.shape), -1.0), -1)


def random_arm(successes: np.ndarray, failures: np.ndarray, t: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Pull arms uniformly at random."""
    return rng.integers(0, successes.shape[-1], successes.shape[0])


def _empirical(successes: np.ndarray, failures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pulls = successes + failures
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pulls > 0, successes / pulls, np.inf), pulls


def epsilon_greedy(epsilon: float = 0.1) -> Strategy:
    """The arm of highest empirical mean (each arm once first), a uniform arm with probability ``epsilon``."""
    if not 0 <= epsilon <= 1:
        raise ConfigError(f"epsilon must be in [0, 1], got {epsilon!r}", fields=("epsilon",))

    def choose(successes: np.ndarray, failures: np.ndarray, t: int, n: int, rng: np.random.Generator) -> np.ndarray:
        greedy = argmax_random_ties(_empirical(successes, failures)[0], rng)
        explore = rng.random(len(greedy)) < epsilon
        return np.where(explore, random_arm(successes, failures, t, n, rng), greedy)

    return choose


def ucb1(successes: np.ndarray, failures: np.ndarray, t: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """UCB1 (Auer et al. 2002): each arm once, then ``argmax mean_a + sqrt(2 ln t / n_a)``."""
    mean, pulls = _empirical(successes, failures)
    with np.errstate(invalid="ignore", divide="ignore"):
        bonus = np.sqrt(2 * math.log(max(t, 1)) / pulls)
    return argmax_random_ties(np.where(pulls > 0, mean + bonus, np.inf), rng)


def thompson(successes: np.ndarray, failures: np.ndarray, t: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Thompson sampling: the arm of the largest draw from each arm's Beta(1 + s, 1 + f) posterior."""
    return argmax_random_ties(rng.beta(1 + successes, 1 + failures), rng)


@lru_cache(maxsize=16)
def gittins_table(pulls: int, discount: float, alpha: float = 1.0, beta: float = 1.0, grid: int = 400,
                  tolerance: float = 1e-3) -> np.ndarray:
    """Gittins indices of a Bernoulli arm with a Beta(alpha, beta) prior after ``s`` successes
    and ``f`` failures, ``s + f <= pulls``: ``[pulls + 1, pulls + 1]`` (``nan`` where ``s + f > pulls``).

    Discounted, infinite horizon, by calibration (Gittins 1979; Gittins, Glazebrook & Weber
    2011, Ch. 8): the index of a state is the constant reward ``lambda`` per step of a
    retirement option that makes retiring and continuing equally good, where ``V(a, b) =
    max(lambda / (1 - gamma), p (1 + gamma V(a + 1, b)) + (1 - p) gamma V(a, b + 1))`` with
    ``p = a / (a + b)``. The dynamic programme runs backward from depth ``pulls + M``, where
    ``M`` is the smallest depth with ``gamma^M < tolerance`` and the value is approximated by
    ``max(lambda, p) / (1 - gamma)`` (the posterior is then nearly certain). One programme per
    ``lambda`` on a grid of ``grid`` values in (0, 1) serves every state at once; each index is
    interpolated linearly between the two grid values where continuing stops paying.
    """
    if not 0 < discount < 1:
        raise ConfigError(f"the Gittins discount must be in (0, 1), got {discount!r}", fields=("discount",))
    depth = pulls + math.ceil(math.log(tolerance) / math.log(discount))
    lam = (np.arange(grid) + 0.5) / grid
    stop = (lam / (1 - discount))[:, None]
    s = np.arange(depth + 1)
    p = (alpha + s) / (alpha + beta + depth)
    value = np.maximum(lam[:, None], p) / (1 - discount)
    table = np.full((pulls + 1, pulls + 1), np.nan)
    for level in range(depth - 1, -1, -1):
        s = np.arange(level + 1)
        p = (alpha + s) / (alpha + beta + level)
        cont = p * (1 + discount * value[:, 1:]) + (1 - p) * discount * value[:, :-1]
        if level <= pulls:
            gain = cont - stop  # decreasing in lambda
            above = (gain > 0).sum(0)
            lo, hi = np.clip(above - 1, 0, grid - 1), np.clip(above, 0, grid - 1)
            g_lo, g_hi = gain[lo, s], gain[hi, s]
            step = np.where(g_lo > g_hi, g_lo / np.where(g_lo > g_hi, g_lo - g_hi, 1), 0.0)
            table[s, level - s] = lam[lo] + step * (lam[hi] - lam[lo])
        value = np.maximum(stop, cont)
    return table


def gittins_index(alpha: float, beta: float, discount: float, grid: int = 2000, tolerance: float = 1e-6) -> float:
    """The discounted Gittins index of a Bernoulli arm with a Beta(alpha, beta) posterior."""
    return float(gittins_table(0, discount, alpha, beta, grid, tolerance)[0, 0])


def gittins(discount: float | None = None) -> Strategy:
    """Pull the arm of highest Gittins index (:func:`gittins_table`, prior Beta(1, 1)).

    The index is the discounted one, an approximation for a finite trial of ``n`` pulls; the
    discount is ``discount``, or ``1 - 1 / n`` (an effective horizon of ``n`` pulls) when None.
    """

    def choose(successes: np.ndarray, failures: np.ndarray, t: int, n: int, rng: np.random.Generator) -> np.ndarray:
        table = gittins_table(n, discount if discount is not None else 1 - 1 / max(n, 2))
        return argmax_random_ties(table[successes.astype(int), failures.astype(int)], rng)

    return choose


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "random": lambda: random_arm,
    "greedy": lambda: epsilon_greedy(0.0),
    "epsilon-greedy": lambda: epsilon_greedy(0.1),
    "ucb1": lambda: ucb1,
    "thompson": lambda: thompson,
    "gittins": lambda: gittins(),
}


def play(strategy: Strategy, trials: BanditTrials, rng: np.random.Generator) -> np.ndarray:
    """Play every trial of ``trials`` with ``strategy``: ``[T, Q, 2]`` total rewards and pseudo-regrets."""
    tasks, count, pulls, arms = trials.shape
    payouts = trials.payouts.reshape(tasks * count, pulls, arms)
    rows = np.arange(len(payouts))
    successes, failures = np.zeros((len(payouts), arms)), np.zeros((len(payouts), arms))
    actions = np.empty((len(payouts), pulls), dtype=np.int64)
    for t in range(pulls):
        arm = strategy(successes, failures, t, pulls, rng)
        paid = payouts[rows, t, arm]
        successes[rows, arm] += paid
        failures[rows, arm] += ~paid
        actions[:, t] = arm
    return trials.outcomes(actions.reshape(tasks, count, pulls))[1]


def evaluate_strategy(name: str, family: Bandit, shape: TaskShape, *, episodes: int = 500, seed: int = 0,
                      batch: int = 100) -> EvalResult:
    """Mean total reward (95% CI over tasks) of strategy ``name`` on fixed tasks ``0..episodes-1``,
    with the pseudo-regret in ``breakdown`` (the meta-learners' ``evaluate`` result, for a table)."""
    if name not in STRATEGIES:
        raise ConfigError(f"unknown bandit strategy {name!r}; available: {', '.join(STRATEGIES)}")
    strategy, rng = STRATEGIES[name](), np.random.default_rng(derive_seed(seed, _STRATEGY_SALT))
    results = [play(strategy, BanditTrials(episode), rng) for episode in
               fixed_tasks(family, shape, seed=seed, count=episodes, batch=batch)]
    per_task = torch.from_numpy(np.concatenate(results).mean(1))
    mean, ci = mean_ci95(per_task[:, TOTAL])
    return EvalResult(family.metric, mean, ci, episodes, seed, family.describe(shape), True,
                      summary=f"{name}, {family.summary(shape)}", scores=tuple(per_task[:, TOTAL].tolist()),
                      breakdown={"regret": list(mean_ci95(per_task[:, REGRET]))})
