"""2D navigation with a point robot (Finn et al. 2017, Sec. 5.3): a family of RL tasks.

A task is a goal drawn uniformly from ``[-0.5, 0.5]^2``. The robot starts at the origin; its
state (the observation) is its position, an action is a velocity clipped to ``[-0.1, 0.1]``
per coordinate, and the reward of a step is the negative L2 distance from the new position
to the goal (the paper's text says squared distance; its public code and later re-implementations
use the L2 distance, whose returns Table 4 reports). An episode lasts ``horizon = 100`` steps,
or ends once the robot is within 0.01 of the goal in both coordinates (as the public code).

:class:`PointNavigation` is the simulator, vectorised over tasks and trajectories: one
tensor step moves every robot of a meta-batch at once. :class:`Navigation2D` is the task
family (a :class:`~metalab.tasks.control.ControlTasks`). A task's support set is the ``shots``
trajectories the current policy collects per inner step, its query set the ``queries``
trajectories collected after adaptation; an episode carries the goal (``support_x``: ``[K, 2]``)
and rollout seeds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from metalab.tasks.control import Actor, ControlTasks, Rollouts
from metalab.tasks.family import TaskShape

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner


@dataclasses.dataclass(frozen=True)
class PointNavigation:
    """The point robot, for a batch of goals ``[T, 2]`` and ``K`` trajectories per goal."""

    horizon: int = 100
    max_action: float = 0.1
    goal_radius: float = 0.01
    observe_goal: bool = False
    actions: int = 2

    @property
    def observations(self) -> int:
        """Observation size: the position, and the goal too for the oracle (``observe_goal``)."""
        return 4 if self.observe_goal else 2

    def step(self, position: torch.Tensor, action: torch.Tensor, goal: torch.Tensor, alive: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of robots ``[..., 2]`` still ``alive`` ``[...]``: the new position, the reward
        (0 once ended) and whether each is still going (within ``goal_radius`` of the goal ends it)."""
        position = position + action.clamp(-self.max_action, self.max_action) * alive[..., None]
        offset = position - goal
        reward = -offset.norm(dim=-1) * alive
        return position, reward, alive * (offset.abs() >= self.goal_radius).any(-1)

    def observe(self, position: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """What the policy sees: the position (and the goal, for the oracle)."""
        return torch.cat([position, goal.expand_as(position)], -1) if self.observe_goal else position

    def rollout(self, act: Actor, goals: torch.Tensor, trajectories: int,
                seeds: Sequence[int] | None = None) -> Rollouts:
        """Run ``act`` from the origin for ``horizon`` steps in every task at once (the robot's
        start is fixed, so ``seeds`` is not needed)."""
        tasks = goals.shape[0]
        goal = goals[:, None, :]
        position = goals.new_zeros(tasks, trajectories, 2)
        alive = goals.new_ones(tasks, trajectories)
        observations, actions, rewards, masks = [], [], [], []
        for t in range(self.horizon):
            observation = self.observe(position, goal)
            action = act(observation, t)
            observations.append(observation)
            actions.append(action)
            masks.append(alive)
            position, reward, alive = self.step(position, action, goal, alive)
            rewards.append(reward)
        return Rollouts(torch.stack(observations, 2), torch.stack(actions, 2), torch.stack(rewards, 2),
                        torch.stack(masks, 2))


# navigation2d-oracle: the oracle baseline of Finn et al. (2017, Fig. 5), whose policy sees the goal.
ENVIRONMENTS: dict[str, PointNavigation] = {"navigation2d": PointNavigation(),
                                            "navigation2d-oracle": PointNavigation(observe_goal=True)}


class Navigation2D(ControlTasks):
    """Goals uniform in ``[-0.5, 0.5]^2``; the score is the return after adaptation."""

    environments = ENVIRONMENTS
    label = "2D navigation"

    def __init__(self, part: str = "train", env: str = "navigation2d") -> None:
        super().__init__(part, env)

    def draw_task(self, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(2, generator=generator) - 0.5

    def plot(self, learner: MetaLearner, shape: TaskShape, *, seed: int, path: str | Path, title: str = "",
             goals: int = 4) -> None:
        """The robot's paths (first trajectory) before and after each adaptation step, for the
        first ``goals`` fixed tasks (Finn et al. 2017, Fig. 4)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, goals, figsize=(3.2 * goals, 3.4), squeeze=False)
        with torch.no_grad():
            for i, ax in enumerate(axes[0]):
                task = self.fixed(shape, seed, i)
                phi = learner.adapt(task.support_x, task.support_y, 0)
                for step, rollouts in enumerate(phi.rollouts):
                    path_xy = rollouts.observations[0, 0, :, :2][rollouts.mask[0, 0] > 0]
                    ax.plot(*path_xy.T.cpu(), lw=1.2, label=f"{step} step" + ("s" if step != 1 else ""))
                goal = task.support_x[0].cpu()
                ax.plot(*goal, "r*", ms=12, label="goal")
                ax.set(xlim=(-0.6, 0.6), ylim=(-0.6, 0.6), aspect="equal", title=f"goal {i}")
        axes[0][0].legend(fontsize=7, loc="lower left")
        fig.suptitle(title or self.name)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
