"""A GRU policy whose hidden state carries what it has learnt about the task (Duan et al. 2016, Sec. 2.2).

At step ``t`` the GRU reads ``x_t = [o_t, onehot(a_{t-1}), r_{t-1}, d_{t-1}]`` (observation,
previous action, reward and done flag; zeros before the first step) and updates ``h_t``; a
softmax over ``actions`` and a value estimate are read from ``h_t``. The hidden state is reset
only between tasks, never between the episodes of one task, so the recurrent dynamics can
implement a learning algorithm of their own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GRUPolicy(nn.Module):
    """A one-layer GRU with a categorical policy head and a value head.

    Args:
        actions: number of discrete actions (arms), or the size of a continuous action.
        observations: size of an observation (0 for bandits, which have none).
        hidden: GRU units.
        continuous: a Gaussian policy: the ``logits`` head gives the mean of each action
            coordinate and ``log_std`` (state-independent, initially ``log(init_std)``) its
            spread; the previous action enters the input as it is rather than one-hot.
    """

    def __init__(self, actions: int, observations: int = 0, hidden: int = 128, *, continuous: bool = False,
                 init_std: float = 1.0) -> None:
        super().__init__()
        self.actions, self.observations, self.hidden, self.continuous = actions, observations, hidden, continuous
        self.gru = nn.GRU(observations + actions + 2, hidden, batch_first=True)
        self.logits = nn.Linear(hidden, actions)
        self.value = nn.Linear(hidden, 1)
        if continuous:
            self.log_std = nn.Parameter(torch.full((actions,), float(torch.tensor(init_std).log())))

    def inputs(self, actions: torch.Tensor, rewards: torch.Tensor, done: torch.Tensor,
               observations: torch.Tensor | None = None) -> torch.Tensor:
        """The GRU's inputs after each step: ``[B, L]`` actions, rewards and done flags (and
        ``[B, L, obs]`` observations) -> ``[B, L, in]``."""
        parts = [] if observations is None else [observations]
        previous = actions.to(rewards.dtype) if self.continuous else F.one_hot(actions, self.actions).to(rewards.dtype)
        parts += [previous, rewards[..., None],
                  done[..., None].to(rewards.dtype)]
        return torch.cat(parts, -1)

    def first_input(self, batch: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The input before any step: zeros ``[B, 1, in]``."""
        return torch.zeros(batch, 1, self.gru.input_size, dtype=dtype, device=self.logits.weight.device)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``[B, L, in]`` inputs (and ``[1, B, hidden]`` state) -> ``[B, L, actions]`` logits,
        ``[B, L]`` values and the new state ``[1, B, hidden]``."""
        out, h = self.gru(x, h)
        return self.logits(out), self.value(out)[..., 0], h
