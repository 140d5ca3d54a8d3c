"""What reinforcement-learning task families share: rollouts, simulators and scoring by return.

A control task is a parameter of the reward (a goal position, a direction, a goal speed) that
a simulator turns into trajectories. A family draws the parameter; as tensors an episode
carries it repeated (``support_x``: ``[K, d]``) and a rollout seed (``support_y``: ``[K]``
int64, one seed repeated; ``query_y`` another), so the policy's sampling noise and the
simulator's initial states are pure functions of the task stream (whose generator the
checkpoints keep) and resumed runs see the same trajectories.

A simulator (:class:`Simulator`) steps every trajectory of a meta-batch of tasks at once and
returns :class:`Rollouts`; its ``observations``, ``actions`` and ``horizon`` size the policy.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.regression import PARTS, check_part
from metalab.tasks.seeding import derive_seed


@dataclasses.dataclass(frozen=True)
class Rollouts:
    """A batch of trajectories: ``T`` tasks x ``K`` trajectories x ``H`` steps.

    Attributes:
        observations: ``[T, K, H, obs]`` the state before each step.
        actions: ``[T, K, H, act]`` the policy's actions (before clipping: their log-likelihood
            is the policy's).
        rewards: ``[T, K, H]`` (0 after the episode ended).
        mask: ``[T, K, H]`` 1 for the steps that happened, 0 after the episode ended.
    """

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor

    def returns(self) -> torch.Tensor:
        """Each task's mean undiscounted return over its trajectories: ``[T]``."""
        return self.rewards.sum(-1).mean(-1)

    @property
    def steps(self) -> int:
        """Simulator steps taken (steps that happened)."""
        return int(self.mask.sum())


# act(observations [T, K, obs], t) -> actions [T, K, act]
Actor = Callable[[torch.Tensor, int], torch.Tensor]


class Simulator(Protocol):
    """Runs a policy in a batch of tasks: ``rollout(act, tasks [T, d], K, seeds=[T ints])``."""

    horizon: int

    @property
    def observations(self) -> int: ...

    @property
    def actions(self) -> int: ...

    def rollout(self, act: Actor, tasks: torch.Tensor, trajectories: int,
                seeds: Sequence[int] | None = None) -> Rollouts: ...


class ControlTasks(TaskFamily):
    """A family of RL tasks scored by return (higher is better).

    The task models of these families are policies; a learner's ``predict`` returns each
    task's mean return after ``0..S`` adaptation steps, ``[T, S+1]``, and the headline score
    is the last one (:meth:`score_breakdown` gives every step's). Subclasses draw the task
    parameter (:meth:`draw_task`) and name their simulator (``env``, the learner's ``env``).
    """

    kind = "rl"
    metric = "return"
    higher_is_better = True
    loss_name = "policy_gradient"
    environments: dict[str, Any] = {}  # the simulators this family can run, by name

    def __init__(self, part: str, env: str) -> None:
        check_part(part)
        if env not in self.environments:
            raise ConfigError(f"unknown {self.label} environment {env!r}: use one of {sorted(self.environments)}",
                              fields=("dataset",))
        self.part, self.env, self.env_name = part, self.environments[env], env
        self.name, self.source = f"{env}/{part}", env

    label = "control"

    @abc.abstractmethod
    def draw_task(self, generator: torch.Generator) -> torch.Tensor:
        """One task's parameter ``[d]`` drawn with ``generator``."""

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        task = self.draw_task(generator)
        seeds = torch.randint(0, 1 << 62, (2,), generator=generator)
        d = task.shape[-1]
        return Episode(task.expand(shape.shots, d).clone(), seeds[0].expand(shape.shots).clone(),
                       task.expand(shape.queries, d).clone(), seeds[1].expand(shape.queries).clone(),
                       classes=torch.zeros(0, dtype=torch.long))

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise ConfigError(f"{self.label} tasks have no supervised loss: learn them with an RL learner (maml-rl)",
                          fields=("algorithm",))

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The return after the last adaptation step: ``[T, S+1]`` returns -> ``[T]``."""
        return outputs[..., -1].double()

    def score_breakdown(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """The return after each adaptation step ``s``: ``return_after_s`` -> ``[T]``."""
        return {f"return_after_{s}": outputs[..., s].double() for s in range(outputs.shape[-1])}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        return {k.replace("return_after_", "return_"): float(v.mean())
                for k, v in self.score_breakdown(outputs, targets).items()} | {
            self.metric: float(self.task_scores(outputs, targets).mean())}

    def describe(self, shape: TaskShape) -> dict[str, Any]:
        return {"trajectories": shape.shots, "query_trajectories": shape.queries, "horizon": self.env.horizon}

    def summary(self, shape: TaskShape) -> str:
        return f"{self.label}, {shape.shots} trajectories per step"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"env": self.env_name}
