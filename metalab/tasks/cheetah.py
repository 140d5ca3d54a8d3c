"""Half-cheetah locomotion tasks (Finn et al. 2017, Sec. 5.3): run forward or backward, or at a goal speed.

The simulator is gymnasium's ``HalfCheetah-v5`` (MuJoCo physics; ``pip install 'metalab[rl]'``),
vectorised over every trajectory of a meta-batch with gymnasium's synchronous vector API. Only
the reward is the task's, computed from the cheetah's forward velocity ``v`` (``x_velocity``)
and the action ``a`` clipped to the actuators' range ``[-1, 1]``:

- ``cheetah-dir``: a direction ``d`` in {-1, +1} (each with probability 1/2); reward ``d v - c |a|^2``;
- ``cheetah-vel``: a goal speed ``g`` uniform in ``[0, 2]``; reward ``-|v - g| - c |a|^2``;

with ``c = 0.05`` (the control cost ``0.5 * 0.1 |a|^2`` of the paper's public code) and a horizon
of 200 steps. Observations are ``HalfCheetah-v5``'s 17 joint positions (without the forward
position) and velocities; each trajectory starts from the model's rest pose with gymnasium's
reset noise, seeded from the episode's rollout seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from metalab.errors import ConfigError
from metalab.tasks.control import Actor, ControlTasks, Rollouts
from metalab.tasks.seeding import derive_seed

OBJECTIVES = ("direction", "velocity")


def _gymnasium() -> Any:
    try:
        import gymnasium
        import mujoco  # noqa: F401  (HalfCheetah-v5 needs it)
    except ImportError as error:
        raise ConfigError("half-cheetah tasks need gymnasium and MuJoCo: pip install 'metalab[rl]'",
                          fields=("dataset",)) from error
    return gymnasium


@contextlib.contextmanager
def _compiler_warnings() -> Iterator[None]:
    """MuJoCo's compiler warnings as Python warnings, without the deprecation notice that
    gymnasium's half-cheetah model raises once per environment made (hundreds of lines)."""
    import mujoco

    messages: list[str] = []
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(messages.append)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(previous)
    for message in sorted({m for m in messages if "settotalmass" not in m}):
        warnings.warn(f"MuJoCo: {message}", stacklevel=3)


@dataclasses.dataclass(frozen=True)
class HalfCheetah:
    """``HalfCheetah-v5`` with a task's reward, for a batch of tasks ``[T, 1]`` (direction or goal speed).

    The gymnasium environments are made on first use and kept, one vector of them per batch
    size, so meta-training makes them once.
    """

    objective: str = "direction"
    horizon: int = 200
    control_cost: float = 0.05
    observations: int = 17
    actions: int = 6
    _vectors: dict[int, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"half-cheetah objective must be one of {OBJECTIVES}, got {self.objective!r}")

    def vector(self, count: int) -> Any:
        """``count`` HalfCheetah-v5 environments behind gymnasium's synchronous vector API."""
        if count not in self._vectors:
            gym = _gymnasium()
            with _compiler_warnings():
                self._vectors[count] = gym.make_vec("HalfCheetah-v5", num_envs=count, vectorization_mode="sync",
                                                    vector_kwargs={"copy": False})
        return self._vectors[count]

    def reward(self, velocity: np.ndarray, action: np.ndarray, task: np.ndarray) -> np.ndarray:
        """The reward of each trajectory's step: forward velocities ``[N]``, clipped actions ``[N, 6]``,
        task parameters ``[N]``."""
        forward = task * velocity if self.objective == "direction" else -np.abs(velocity - task)
        return forward - self.control_cost * np.square(action).sum(-1)

    def rollout(self, act: Actor, tasks: torch.Tensor, trajectories: int,
                seeds: Sequence[int] | None = None) -> Rollouts:
        """Run ``act`` for ``horizon`` steps in ``trajectories`` copies of every task at once;
        trajectory ``j`` of task ``i`` starts from a state seeded by ``derive_seed(seeds[i], j)``."""
        count = tasks.shape[0]
        n = count * trajectories
        seeds = list(range(count)) if seeds is None else list(seeds)
        envs = self.vector(n)
        observation, _ = envs.reset(seed=[derive_seed(s, j) for s in seeds for j in range(trajectories)])
        task = np.repeat(tasks[:, 0].detach().cpu().double().numpy(), trajectories)
        observations, actions, rewards = [], [], []
        for t in range(self.horizon):
            obs = torch.as_tensor(observation, dtype=tasks.dtype).view(count, trajectories, self.observations)
            action = act(obs.to(tasks.device), t)
            clipped = action.detach().cpu().double().clamp(-1, 1).reshape(n, self.actions).numpy()
            observation, _, _, _, info = envs.step(clipped)
            observations.append(obs)
            actions.append(action)
            rewards.append(torch.as_tensor(self.reward(info["x_velocity"], clipped, task)))
        rewards_t = torch.stack(rewards, -1).view(count, trajectories, self.horizon).to(tasks)
        return Rollouts(torch.stack(observations, 2).to(tasks.device), torch.stack(actions, 2), rewards_t,
                        torch.ones_like(rewards_t))


ENVIRONMENTS: dict[str, HalfCheetah] = {"cheetah-dir": HalfCheetah("direction"),
                                        "cheetah-vel": HalfCheetah("velocity")}


class HalfCheetahTasks(ControlTasks):
    """Directions in {-1, +1} (``cheetah-dir``) or goal speeds uniform in ``[0, 2]`` (``cheetah-vel``)."""

    environments = ENVIRONMENTS
    label = "half-cheetah"

    def __init__(self, part: str = "train", env: str = "cheetah-dir") -> None:
        super().__init__(part, env)

    def draw_task(self, generator: torch.Generator) -> torch.Tensor:
        if self.env.objective == "direction":
            return torch.randint(0, 2, (1,), generator=generator).float() * 2 - 1
        return torch.rand(1, generator=generator) * 2
