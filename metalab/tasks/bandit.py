"""Bernoulli multi-armed bandits (Duan et al. 2016, Sec. 4.1): a family of RL tasks.

A task is ``k`` arms whose success probabilities ``p_1..p_k`` are drawn independently from
Uniform[0, 1], as in the RL^2 paper; pulling arm ``a`` pays 1 with probability ``p_a``, else 0.
A trial is ``n`` pulls of the same arms; a learner is scored by its total reward over the
trial (the paper's Table 1) and its pseudo-regret ``n max_a p_a - sum_t p_{a_t}``.

As tensors an episode carries the arm probabilities and the trials' seeds:
``support_x``: ``[n, k]`` (the probabilities repeated once per pull, so ``n`` is
``len(support_x)``), ``support_y``: ``[n]`` int64 (the seed of the trial that ``adapt`` plays,
repeated), ``query_x``: ``[Q, k]`` and ``query_y``: ``[Q]`` (one seed per scored trial). A trial's
randomness, the reward table (whether each arm pays at each pull) and the uniforms a
stochastic policy samples its arms with, is a pure function of its seed
(:func:`trial_randomness`): every method scored on a task meets the same reward table, and a
resumed run replays the same trials, since the seeds come from the checkpointed task stream.

In shape terms: ``ways`` is ``k`` arms, ``shots`` is ``n`` pulls, ``queries`` is ``Q`` trials.
A learner's ``predict`` returns each task's ``[Q, 2]`` (total reward, pseudo-regret) per trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape, check_counts
from metalab.tasks.regression import PARTS, check_part
from metalab.tasks.seeding import derive_seed

TOTAL, REGRET = 0, 1  # the two columns of a trial's outcome


def trial_randomness(seeds: Sequence[int], pulls: int, arms: int) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of trials ``seeds``: ``[S, n, k]`` uniforms (arm ``a`` pays at pull
    ``t`` when ``u[t, a] < p_a``) and ``[S, n]`` uniforms for a policy's own sampling."""
    payouts, choices = np.empty((len(seeds), pulls, arms)), np.empty((len(seeds), pulls))
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        payouts[i], choices[i] = rng.random((pulls, arms)), rng.random(pulls)
    return payouts, choices


def trial_outcomes(means: np.ndarray, actions: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Total reward and pseudo-regret of trials: arm probabilities ``[..., k]``, actions
    ``[..., n]`` (int) and rewards ``paid`` ``[..., n]`` -> ``[..., 2]``."""
    chosen = np.take_along_axis(means, actions, -1)
    regret = actions.shape[-1] * means.max(-1) - chosen.sum(-1)
    return np.stack([paid.sum(-1), regret], -1)


class BanditTrials:
    """The trials of a batched episode, as numpy arrays for simulators and baselines.

    Attributes:
        means: ``[T, k]`` arm probabilities.
        payouts: ``[T, Q, n, k]`` bool: whether each arm pays at each pull of each trial.
        choices: ``[T, Q, n]`` uniforms a stochastic policy samples its arms with.
    """

    def __init__(self, episode: Episode, *, support: bool = False) -> None:
        x = episode.support_x if episode.batched else episode.support_x[None]
        seeds = (episode.support_y[..., :1] if support else episode.query_y)
        seeds = seeds if episode.batched else seeds[None]
        self.means = x[:, 0].double().cpu().numpy()
        tasks, trials = seeds.shape
        pulls, arms = x.shape[1], x.shape[2]
        u, c = trial_randomness(seeds.reshape(-1).tolist(), pulls, arms)
        self.payouts = u.reshape(tasks, trials, pulls, arms) < self.means[:, None, None, :]
        self.choices = c.reshape(tasks, trials, pulls)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(T, Q, n, k)``."""
        return self.payouts.shape

    def outcomes(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rewards ``[T, Q, n]`` of ``actions`` ``[T, Q, n]``, and ``[T, Q, 2]`` totals and regrets."""
        paid = np.take_along_axis(self.payouts, actions[..., None], -1)[..., 0].astype(np.float64)
        return paid, trial_outcomes(self.means[:, None, :], actions, paid)


class Bandit(TaskFamily):
    """Bernoulli bandits with arm probabilities Uniform[0, 1]; the score is a trial's total reward."""

    kind = "bandit"
    metric = "total_reward"
    higher_is_better = True
    loss_name = "mse"  # unused: :meth:`loss` says bandits need an RL learner

    def __init__(self, part: str = "train") -> None:
        check_part(part)
        self.part = part
        self.name, self.source = f"bandit/{part}", "bandit"

    def check(self, shape: TaskShape) -> None:
        check_counts(shape)
        arms = shape.ways
        if not isinstance(arms, int) or isinstance(arms, bool) or arms < 2:
            raise ConfigError(f"bandit tasks need ways = the number of arms, an integer >= 2, got {arms!r}; "
                              "set ways (--ways 5)", fields=("ways",))

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        arms, pulls, trials = shape.ways, shape.shots, shape.queries
        means = torch.rand(arms, generator=generator)
        seeds = torch.randint(0, 1 << 62, (1 + trials,), generator=generator)
        return Episode(means.expand(pulls, arms).clone(), seeds[0].expand(pulls).clone(),
                       means.expand(trials, arms).clone(), seeds[1:].clone(), classes=torch.zeros(0, dtype=torch.long))

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise ConfigError("bandit tasks have no supervised loss: learn them with an RL learner (rl2)",
                          fields=("algorithm",))

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean total reward over a task's trials: ``[T, Q, 2]`` -> ``[T]``."""
        return outputs[..., TOTAL].double().mean(-1)

    def score_breakdown(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """Mean pseudo-regret over a task's trials (``regret``) -> ``[T]``."""
        return {"regret": outputs[..., REGRET].double().mean(-1)}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        return {self.metric: float(self.task_scores(outputs, targets).mean()),
                "regret": float(self.score_breakdown(outputs, targets)["regret"].mean())}

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"arms": shape.ways, "pulls": shape.shots, "trials": shape.queries}

    def summary(self, shape: TaskShape) -> str:
        return f"{shape.ways}-armed Bernoulli bandit, {shape.shots} pulls"

    def learner_requirements(self, shape: TaskShape) -> dict[str, Any]:
        return {"arms": shape.ways}
