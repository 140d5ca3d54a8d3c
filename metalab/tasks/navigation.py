"""2D navigation with a point robot (Finn et al. 2017, Sec. 5.3): a family of RL tasks.

A task is a goal drawn uniformly from ``[-0.5, 0.5]^2``. The robot starts at the origin; its
state (the observation) is its position, an action is a velocity clipped to ``[-0.1, 0.1]``
per coordinate, and the reward of a step is the negative L2 distance from the new position
to the goal (the paper's text says squared distance; its public code and later re-implementations
use the L2 distance, whose returns Table 4 reports). An episode lasts ``horizon = 100`` steps,
or ends once the robot is within 0.01 of the goal in both coordinates (as the public code).

:class:`PointNavigation` is the simulator, vectorised over tasks and trajectories: one
tensor step moves every robot of a meta-batch at once. :class:`Navigation2D` is the task
family. A task's support set is the ``shots`` trajectories the current policy collects per
inner step, its query set the ``queries`` trajectories collected after adaptation; as
tensors an episode carries the goal (``support_x``: ``[K, 2]``, the goal repeated) and a
rollout seed (``support_y``: ``[K]`` int64, one seed repeated; ``query_y`` another), so the
policy's sampling noise is a pure function of the task stream (whose generator the
checkpoints keep) and resumed runs see the same trajectories.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from metalab.errors import ConfigError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskFamily, TaskShape
from metalab.tasks.regression import PARTS, check_part
from metalab.tasks.seeding import derive_seed

if TYPE_CHECKING:
    from metalab.algorithms.base import MetaLearner


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

    def rollout(self, act: Actor, goals: torch.Tensor, trajectories: int) -> Rollouts:
        """Run ``act`` from the origin for ``horizon`` steps in every task at once."""
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


class Navigation2D(TaskFamily):
    """Goals uniform in ``[-0.5, 0.5]^2``; the score is the return (higher is better).

    The task models of this family are policies; a learner's ``predict`` returns each task's
    mean return after ``0..S`` adaptation steps, ``[T, S+1]``, and the headline score is the
    last one (:meth:`score_breakdown` gives every step's).
    """

    kind = "rl"
    metric = "return"
    higher_is_better = True
    loss_name = "policy_gradient"

    def __init__(self, part: str = "train", env: str = "navigation2d") -> None:
        check_part(part)
        if env not in ENVIRONMENTS:
            raise ConfigError(f"unknown navigation environment {env!r}: use one of {sorted(ENVIRONMENTS)}",
                              fields=("dataset",))
        self.part, self.env, self.env_name = part, ENVIRONMENTS[env], env
        self.name, self.source = f"{env}/{part}", env

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        goal = torch.rand(2, generator=generator) - 0.5
        seeds = torch.randint(0, 1 << 62, (2,), generator=generator)
        return Episode(goal.expand(shape.shots, 2).clone(), seeds[0].expand(shape.shots).clone(),
                       goal.expand(shape.queries, 2).clone(), seeds[1].expand(shape.queries).clone(),
                       classes=torch.zeros(0, dtype=torch.long))

    def fixed_seed(self, seed: int, index: int) -> int:
        return derive_seed(seed, index, PARTS[self.part])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise ConfigError("navigation tasks have no supervised loss: learn them with an RL learner (maml-rl)",
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
        return f"2D navigation, {shape.shots} trajectories per step"

    def learner_defaults(self, shape: TaskShape) -> dict[str, Any]:
        return {"env": self.env_name}

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
