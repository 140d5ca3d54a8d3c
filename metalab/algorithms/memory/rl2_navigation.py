"""RL^2's trials on the point robot (Duan et al. 2016, Sec. 2.2, on Finn et al.'s 2D navigation).

A trial is ``episodes`` consecutive episodes of one task (goal); the GRU's hidden state is
kept across them, so what the first episode found out about the goal can steer the next. At
step ``t`` the GRU reads ``[o_t, a_{t-1}, r_{t-1}, d_t]``: the position, the previous action
and reward, and ``d_t = 1`` on the first step of every episode after the first (the previous
step ended an episode). The robot restarts from the origin each episode. Steps after an
episode ended early are still fed to the GRU (reward 0) but carry no policy loss.

All randomness (the policy's Gaussian noise) comes from the trials' seeds: trial ``q`` of a
task with seed ``s`` draws its noise from ``derive_seed(s, q)``, so training and evaluation
replay exactly.
"""

from __future__ import annotations

import dataclasses

import torch

from metalab.models.recurrent_policy import GRUPolicy
from metalab.tasks.episode import Episode
from metalab.tasks.navigation import PointNavigation
from metalab.tasks.seeding import derive_seed, seeded_generator


@dataclasses.dataclass(frozen=True)
class NavigationTrials:
    """``B = T * Q`` trials: goals ``[B, 2]`` and the policy's standard-normal noise ``[B, E * H, act]``."""

    tasks: int
    count: int
    episodes: int
    goals: torch.Tensor
    noise: torch.Tensor

    @classmethod
    def of(cls, batch: Episode, env: PointNavigation, episodes: int, *, support: bool = False) -> NavigationTrials:
        """The query trials of a batched episode (``[T, Q, 2]`` goals, ``[T, Q]`` seeds), or with
        ``support`` one trial of an unbatched one (goal ``support_x[0]``, seed ``support_y[0]``)."""
        if support:
            goals, seeds, count = batch.support_x[:1], [int(batch.support_y[0])], 1
        else:
            goals, seeds, count = batch.query_x[:, 0], [int(s) for s in batch.query_y[:, 0]], batch.query_x.shape[1]
        noise = torch.stack([torch.randn(episodes * env.horizon, env.actions, generator=seeded_generator(derive_seed(s, q)))
                             for s in seeds for q in range(count)])
        return cls(len(seeds), count, episodes, goals.float().repeat_interleave(count, 0), noise)


@dataclasses.dataclass(frozen=True)
class PlayedNavigation:
    """Trials played: GRU ``inputs`` ``[B, L, in]`` (``L = E * H``), ``actions`` ``[B, L, act]``,
    ``rewards`` and ``mask`` ``[B, L]``, each episode's return ``[B, E]``, the robots' paths
    ``[B, E, H, 2]`` and the mean action of the trial's last step ``[B, act]``."""

    inputs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor
    returns: torch.Tensor
    paths: torch.Tensor
    last_mean: torch.Tensor


@torch.no_grad()
def play(policy: GRUPolicy, env: PointNavigation, trials: NavigationTrials) -> PlayedNavigation:
    """Run the policy through every trial at once, stepping the GRU one input at a time."""
    goals, batch = trials.goals, len(trials.goals)
    action = goals.new_zeros(batch, env.actions)
    reward, h = goals.new_zeros(batch), None
    inputs, actions, rewards, masks, paths = [], [], [], [], []
    std = policy.log_std.exp()
    for episode in range(trials.episodes):
        position, alive = goals.new_zeros(batch, 2), goals.new_ones(batch)
        for t in range(env.horizon):
            done = goals.new_full((batch,), float(episode > 0 and t == 0))
            x = policy.inputs(action, reward, done, env.observe(position, goals))[:, None]
            mean, _, h = policy(x, h)
            action = mean[:, 0] + std * trials.noise[:, episode * env.horizon + t]
            inputs.append(x)
            actions.append(action)
            masks.append(alive)
            paths.append(position)
            position, reward, alive = env.step(position, action, goals, alive)
            rewards.append(reward)
    rewards_t = torch.stack(rewards, 1)
    return PlayedNavigation(torch.cat(inputs, 1), torch.stack(actions, 1), rewards_t, torch.stack(masks, 1),
                            rewards_t.view(batch, trials.episodes, env.horizon).sum(-1),
                            torch.stack(paths, 1).view(batch, trials.episodes, env.horizon, 2), mean[:, 0])


def gaussian_log_prob(policy: GRUPolicy, means: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``log N(actions; means, exp(log_std)^2)`` summed over action coordinates: ``[B, L]``."""
    log_std = policy.log_std
    z = (actions - means) / log_std.exp()
    return (-0.5 * z.pow(2) - log_std - 0.5 * torch.log(torch.tensor(2 * torch.pi))).sum(-1)


def gaussian_entropy(policy: GRUPolicy) -> torch.Tensor:
    """The policy's entropy per step (state-independent std): ``sum log_std + 0.5 log(2 pi e)``."""
    return (policy.log_std + 0.5 * (1 + torch.log(torch.tensor(2 * torch.pi)))).sum()
