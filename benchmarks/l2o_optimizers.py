"""A learned optimizer against tuned SGD, NAG, RMSprop and Adam on held-out optimizee problems.

Usage: python benchmarks/l2o_optimizers.py RUN --out results/l2o/quadratics [--count 600] [--steps 100 200]
       [--optimizee mlp|mlp2|mlp-relu] [--hidden N]

RUN is a run folder of ``metalab train --algorithm l2o --dataset quadratic|digits|omniglot-mlp``;
the problems are drawn from the family it was trained on (its ``config.yaml``). Each baseline's
learning rate is chosen on 100 fixed *training* problems (seed 1) from a log grid, by the mean
objective after ``--steps[0]`` steps; then every optimizer runs on ``--count`` fixed *test*
problems (seed 0) from the same starts, and the objective after each step is kept. Writes
``curves.json`` (per optimizer: its learning rate, and for each horizon the mean final objective
with its 95% CI and the mean curve, and for each baseline the paired difference learned minus
baseline on the same problems with its 95% CI and a two-sided Wilcoxon signed-rank p-value)
and ``curves.png`` (mean objective against step, log scale).

``--optimizee`` / ``--hidden`` test generalisation (Andrychowicz et al. Sec. 3.2): the trained
LSTM optimizes another architecture than it was trained on (e.g. 40 hidden units, two hidden
layers, ReLU units), and the baselines are tuned anew for that architecture.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from pathlib import Path

import torch
import yaml

from metalab.algorithms import build_learner
from metalab.evaluation.evaluate import mean_ci95
from metalab.evaluation.optimizers import loss_curves
from metalab.tasks.family import TaskFamily
from metalab.tasks.registry import load_tasks
from metalab.training.checkpoint import load_learner

GRID = [10 ** (e / 2) for e in range(-8, 4)]  # 1e-4 ... 31.6
BASELINES = {
    "SGD": lambda lr: (lambda p: torch.optim.SGD(p, lr)),
    "NAG": lambda lr: (lambda p: torch.optim.SGD(p, lr, momentum=0.9, nesterov=True)),
    "RMSprop": lambda lr: (lambda p: torch.optim.RMSprop(p, lr)),
    "Adam": lambda lr: (lambda p: torch.optim.Adam(p, lr)),
}

TITLES = {
    "quadratic": ("mean objective ||W theta - y||^2", "10-d quadratics"),
    "digits": ("mean training loss (cross-entropy)", "MLP on 8x8 digits"),
    "omniglot-mlp": ("mean training loss (cross-entropy)", "MLP on 10 Omniglot characters"),
}


def tune(learner, train: TaskFamily, name: str, steps: int) -> tuple[float, dict[str, float]]:
    """The grid's learning rate with the lowest mean objective after ``steps`` on training problems."""
    scores = {}
    for lr in GRID:
        final = loss_curves(learner, train, steps, make_optimizer=BASELINES[name](lr), seed=1,
                            count=100)[:, -1]
        scores[f"{lr:.4g}"] = float(final.mean()) if torch.isfinite(final).all() else math.inf
    best = min(scores, key=scores.get)
    return float(best), scores


def paired(learned: torch.Tensor, baseline: torch.Tensor) -> dict[str, float]:
    """Learned minus baseline on the same problems: mean difference, its 95% CI, the share of
    problems the learned optimizer ends lower on, and the Wilcoxon signed-rank p-value."""
    from scipy.stats import wilcoxon

    difference = learned - baseline
    mean, ci = mean_ci95(difference)
    return {"mean_difference": round(mean, 5), "ci95": round(ci, 5),
            "learned_lower_share": round(float((difference < 0).double().mean()), 4),
            "wilcoxon_p": float(wilcoxon(difference.numpy()).pvalue)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--steps", type=int, nargs="+", default=[100, 200])
    p.add_argument("--optimizee", help="optimize this architecture instead of the trained one")
    p.add_argument("--hidden", type=int, help="hidden units of the optimizee instead of the trained number")
    a = p.parse_args()
    torch.set_num_threads(1)
    learner, _, state = load_learner(a.run)
    changes = {k: v for k, v in {"optimizee": a.optimizee, "hidden": a.hidden}.items() if v is not None}
    if changes:
        trained = learner
        learner = build_learner("l2o", {**state["learner_config"], **changes}).eval()
        learner.net.load_state_dict(trained.net.state_dict())
    config = yaml.safe_load((Path(a.run) / "config.yaml").read_text())["config"]
    dataset = config["dataset"]
    train, test = (load_tasks(dataset, part, split=config["split"], data_dir=config["data_dir"])
                   for part in ("train", "test"))
    horizon = max(a.steps)
    report = {"run": a.run, "dataset": dataset, "optimizee": learner.config.optimizee,
              "hidden": learner.config.hidden, "checkpoint_step": state["step"], "problems": a.count, "horizons": a.steps,
              "processor": platform.processor() or platform.machine(), "optimizers": {}}
    runs = {"learned (LSTM)": (None, None, {})}
    for name in BASELINES:
        lr, scores = tune(learner, train, name, a.steps[0])
        runs[name] = (BASELINES[name](lr), lr, scores)
        print(f"{name}: lr {lr:g} (tuned at {a.steps[0]} steps)", flush=True)
    learned_curves = None
    for name, (make, lr, scores) in runs.items():
        curves = loss_curves(learner, test, horizon, make_optimizer=make, count=a.count)
        entry = {"lr": lr, "tuning": scores, "mean_curve": [round(float(v), 5) for v in curves.mean(0)]}
        for steps in a.steps:
            mean, ci = mean_ci95(curves[:, steps])
            entry[f"final_{steps}"] = {"mean": round(mean, 5), "ci95": round(ci, 5)}
            if learned_curves is not None:
                entry[f"paired_{steps}"] = paired(learned_curves[:, steps], curves[:, steps])
        learned_curves = curves if learned_curves is None else learned_curves
        report["optimizers"][name] = entry
        print(name, {k: v for k, v in entry.items() if k.startswith("final")}, flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "curves.json").write_text(json.dumps(report, indent=1))
    plot(report, out / "curves.png")


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, entry in report["optimizers"].items():
        label = name if entry["lr"] is None else f"{name} (lr {entry['lr']:g})"
        ax.plot(entry["mean_curve"], label=label, lw=2 if entry["lr"] is None else 1)
    ax.axvline(report["horizons"][0], color="gray", ls=":", lw=1)
    what = TITLES.get(report.get("dataset", "quadratic"), ("mean objective", report.get("dataset")))
    variant = "" if report.get("dataset", "quadratic") == "quadratic" else f" ({report['optimizee']}, {report['hidden']} hidden)"
    ax.set(yscale="log", xlabel="optimizee step", ylabel=what[0],
           title=f"{what[1]}{variant}, {report['problems']} held-out problems")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
