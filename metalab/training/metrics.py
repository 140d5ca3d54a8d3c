"""The run's metrics log (JSON lines) and its learning-curve plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only ``metrics.jsonl``; on resume, records after the checkpoint's step are dropped
    so the log matches the run the checkpoint continues."""

    def __init__(self, path: str | Path, resume_step: int | None = None) -> None:
        self.path = Path(path)
        if resume_step is None:
            self.path.write_text("")
        elif self.path.exists():
            kept = [line for line in self.path.read_text().splitlines() if _step(line) <= resume_step]
            self.path.write_text("".join(line + "\n" for line in kept))

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def _step(line: str) -> int:
    try:
        return int(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return 1 << 62  # a torn last line is dropped


def plot_curve(records: list[dict[str, Any]], path: str | Path, title: str = "", *, metric: str = "accuracy",
               scale: float = 100.0) -> None:
    """Training loss and ``metric``, and the validation ``metric`` with its CI, against the step.

    Training records hold the metric's raw value (``scale`` turns it into the reported unit,
    as the task family says); validation records hold ``val_<metric>`` already scaled.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if "loss" in r]
    scored = [r for r in train if metric in r]
    key = f"val_{metric}"
    val = [r for r in records if key in r]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    if train:
        left.plot([r["step"] for r in train], [r["loss"] for r in train])
    positive = all(r["loss"] > 0 for r in train)  # a surrogate (PPO, TRPO) can go negative: linear then
    left.set(xlabel="meta-update", ylabel="training query loss", yscale="log" if positive else "linear", title="loss")
    if scored:
        right.plot([r["step"] for r in scored], [scale * r[metric] for r in scored], label="training tasks")
    if val:
        right.errorbar(
            [r["step"] for r in val], [r[key] for r in val], yerr=[r["val_ci95"] for r in val],
            marker="o", capsize=3, label="validation (fixed tasks, 95% CI)",
        )
        right.legend(loc="best")
    label = f"query {metric}" + (" (%)" if scale == 100 else "")
    right.set(xlabel="meta-update", ylabel=label, title=f"query {metric}")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
