"""Plots of adapted regression models: a few fixed tasks' true curves, support points, and
the learner's prediction before and after adaptation (Finn et al. 2017, Fig. 2)."""

from __future__ import annotations

from pathlib import Path

import torch

from metalab.algorithms.base import MetaLearner
from metalab.tasks.regression import RegressionTasks


def plot_adapted_curves(
    learner: MetaLearner, family: RegressionTasks, *, shots: int, seed: int = 0, tasks: int = 4,
    path: str | Path, title: str = "",
) -> None:
    """Fixed tasks ``0..tasks-1`` of ``family`` (1-d inputs), one panel each, saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low, high = family.x.low, family.x.high
    grid = torch.linspace(low, high, 200).unsqueeze(-1)
    was_training = learner.training
    learner.eval()
    fig, axes = plt.subplots(1, tasks, figsize=(3.4 * tasks, 3), sharey=True)
    try:
        for index, ax in zip(range(tasks), axes):
            task = family.fixed(shots, 1, seed, index)
            function = family.fixed_function(seed, index)
            with torch.no_grad():
                before = learner.model(grid)  # the meta-learned initialisation
                after = learner.adapt(task.support_x, task.support_y, 0)(grid)
            ax.plot(grid, family.targets(grid, function), "k-", lw=1.5, label="task")
            ax.plot(grid, before, ":", color="tab:gray", label="before adaptation")
            ax.plot(grid, after, "-", color="tab:red", label="adapted")
            ax.plot(task.support_x, task.support_y, "^", color="tab:blue", label=f"{shots} support points")
            ax.set(title=f"task {index}: A={function['amplitude']:.2f}, phase={function['phase']:.2f}", xlabel="x")
    finally:
        learner.train(was_training)
    axes[0].legend(loc="lower left", fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
