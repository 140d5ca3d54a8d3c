"""Policy-gradient pieces: discounted returns, the linear feature baseline, advantages and
the surrogate objectives whose gradients are policy gradients.

All functions work on a batch of ``T`` tasks x ``K`` trajectories x ``H`` steps with a mask
of the steps that happened (:class:`metalab.tasks.navigation.Rollouts`), and return per-task
values ``[T]`` where they reduce, so that a sum over tasks of per-task objectives gives each
task's own gradient when the parameters carry a task dimension.
"""

from __future__ import annotations

import torch


def discounted_returns(rewards: torch.Tensor, discount: float) -> torch.Tensor:
    """Return to go ``R_t = sum_{t' >= t} gamma^(t'-t) r_t'``: ``[..., H]`` -> ``[..., H]``."""
    out = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + discount * running
        out[..., t] = running
    return out


def baseline_features(observations: torch.Tensor) -> torch.Tensor:
    """The linear baseline's features (Duan et al. 2016): ``[s, s^2, t, t^2, t^3, 1]`` with
    ``t`` the step / 100 and ``s`` clipped to ``[-10, 10]``: ``[T, K, H, obs]`` -> ``[T, K, H, F]``."""
    s = observations.clamp(-10, 10)
    t = (torch.arange(s.shape[-2], dtype=s.dtype, device=s.device) / 100.0)[:, None].expand(*s.shape[:-1], 1)
    return torch.cat([s, s * s, t, t * t, t ** 3, torch.ones_like(t)], -1)


def linear_baseline(observations: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                    reg: float = 1e-5) -> torch.Tensor:
    """Each task's least-squares fit of ``returns`` on :func:`baseline_features` over its
    trajectories' steps (ridge ``reg``), evaluated at those steps: ``[T, K, H]``."""
    f = baseline_features(observations).double().flatten(1, 2)  # [T, K*H, F]
    m = mask.double().flatten(1, 2)[..., None]
    y = returns.double().flatten(1, 2)[..., None]
    gram = f.transpose(1, 2) @ (m * f) + reg * torch.eye(f.shape[-1], dtype=f.dtype, device=f.device)
    weights = torch.linalg.solve(gram, f.transpose(1, 2) @ (m * y))
    return (f @ weights).view_as(returns).to(returns.dtype)


def advantages(observations: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor, discount: float,
               center: bool = True) -> torch.Tensor:
    """``A_t = R_t - b(s_t)`` with the linear baseline, standardised per task over its steps
    when ``center`` (as rllab's ``center_adv``): ``[T, K, H]``, 0 where ``mask`` is 0."""
    returns = discounted_returns(rewards, discount)
    adv = (returns - linear_baseline(observations, returns, mask)) * mask
    if center:
        count = mask.sum((1, 2), keepdim=True)
        mean = adv.sum((1, 2), keepdim=True) / count
        std = (((adv - mean) * mask).pow(2).sum((1, 2), keepdim=True) / count).sqrt()
        adv = (adv - mean) / (std + 1e-8) * mask
    return adv


def masked_task_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over each task's steps that happened: ``[T, K, H]`` -> ``[T]``."""
    return (values * mask).sum((1, 2)) / mask.sum((1, 2))


def reinforce_surrogate(log_prob: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The vanilla policy-gradient loss of each task, ``-mean_t log pi(a_t|s_t) A_t`` (Williams
    1992), whose gradient is minus the policy gradient: ``[T, K, H]`` -> ``[T]``."""
    return -masked_task_mean(log_prob * adv, mask)


def ratio_surrogate(log_prob: torch.Tensor, old_log_prob: torch.Tensor, adv: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
    """TRPO's importance-sampled loss ``-mean_t pi(a|s) / pi_old(a|s) A_t`` (Schulman et al.
    2015, Eq. 14), per task ``[T]``; its gradient at ``pi = pi_old`` is the policy gradient's."""
    return -masked_task_mean(torch.exp(log_prob - old_log_prob) * adv, mask)
