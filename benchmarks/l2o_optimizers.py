"""A learned optimizer against tuned SGD, NAG, RMSprop and Adam on held-out optimizee problems.

Usage: python benchmarks/l2o_optimizers.py RUN --out results/l2o/quadratics [--count 600] [--steps 100 200]
       [--optimizee mlp|mlp2|mlp-relu] [--hidden N] [--checkpoint best|last] [--baseline-batches minibatch|full]

RUN is a run folder of ``metalab train --algorithm l2o --dataset quadratic|digits|omniglot-mlp``;
the problems are drawn from the family it was trained on (its ``config.yaml``). Each baseline's
learning rate is chosen on 100 (``--tune-count``) fixed *training* problems (seed 1) from a log grid, by the mean
objective after ``--steps[0]`` steps; then every optimizer runs on ``--count`` fixed *test*
problems (seed 0) from the same starts, and the objective after each step is kept. Writes
``curves.json`` (per optimizer: its learning rate, and for each horizon the mean final objective
with its 95% CI and the mean curve, and for each baseline the paired difference learned minus
baseline on the same problems with its 95% CI and a two-sided Wilcoxon signed-rank p-value)
and ``curves.png`` (mean objective against step, log scale); ``finals_<steps>`` holds every
problem's objective (the spread behind the CI).

On minibatch families (digits, omniglot-mlp: minibatches of 128) every baseline steps on the
same minibatches the learned optimizer draws, as in the paper; ``--baseline-batches full``
gives the baselines the whole support set's gradient instead (a stronger, deterministic
baseline). ``--checkpoint last`` evaluates the run's last checkpoint instead of its best
validation (``best.pt``).

``--optimizee`` / ``--hidden`` test generalisation (Andrychowicz et al. Sec. 3.2): the trained
LSTM optimizes another architecture than it was trained on (e.g. 40 hidden units, two hidden
layers, ReLU units), and the baselines are tuned anew for that architecture.
"""

from __future__ import annotations

import argparse
import hashlib
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


def tune(learner, train: TaskFamily, name: str, steps: int, full_batch: bool,
         count: int = 100) -> tuple[float, dict[str, float]]:
    """The grid's learning rate with the lowest mean objective after ``steps`` on ``count``
    training problems."""
    scores = {}
    for lr in GRID:
        final = loss_curves(learner, train, steps, make_optimizer=BASELINES[name](lr), seed=1,
                            count=count, full_batch=full_batch)[:, -1]
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


def spread(finals: torch.Tensor) -> dict[str, float]:
    """Where a mean's spread comes from: quantiles of the problems' final objectives, the
    standard deviation, and the share of the sum that the worst 5% of the problems make."""
    q = torch.quantile(finals, torch.tensor([0.5, 0.9, 0.99], dtype=finals.dtype))
    worst = finals.sort(descending=True).values[: max(1, len(finals) // 20)]
    return {"median": float(f"{q[0]:.4g}"), "p90": float(f"{q[1]:.4g}"), "p99": float(f"{q[2]:.4g}"),
            "max": float(f"{finals.max():.4g}"), "std": float(f"{finals.std():.4g}"),
            "worst5pct_share": round(float(worst.sum() / finals.sum()), 4)}


def baselines(learner, train: TaskFamily, test: TaskFamily, a: argparse.Namespace, full_batch: bool,
              key: dict) -> dict[str, tuple[float, dict[str, float], torch.Tensor]]:
    """Each baseline's tuned learning rate, its tuning scores and its ``[count, steps + 1]``
    curves on the test problems. They do not depend on the learned optimizer's weights, so with
    ``--cache`` they are kept and reused (the learned optimizer's curves are kept by its weights)."""
    def compute() -> dict:
        results = {}
        for name in BASELINES:
            lr, scores = tune(learner, train, name, a.steps[0], full_batch, a.tune_count)
            print(f"{name}: lr {lr:g} (tuned at {a.steps[0]} steps)", flush=True)
            results[name] = (lr, scores, loss_curves(learner, test, max(a.steps), make_optimizer=BASELINES[name](lr),
                                                     count=a.count, full_batch=full_batch))
        return results

    return cached(a.cache, key, "baselines", compute)


def cached(folder: str | None, key: dict, what: str, compute):
    """``compute()``, kept in ``folder`` under a name derived from ``key`` (everything the result
    depends on) and read back from there when present."""
    if not folder:
        return compute()
    file = Path(folder) / f"{what}-{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]}.pt"
    if file.exists():
        print(f"{what} from {file}", flush=True)
        return torch.load(file)
    result = compute()
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.save(result, file)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--steps", type=int, nargs="+", default=[100, 200])
    p.add_argument("--optimizee", help="optimize this architecture instead of the trained one")
    p.add_argument("--hidden", type=int, help="hidden units of the optimizee instead of the trained number")
    p.add_argument("--tune-count", type=int, default=100, help="training problems the learning rates are tuned on")
    p.add_argument("--cache", help="folder keeping the curves computed (the baselines' do not depend on the learned optimizer)")
    p.add_argument("--baselines-only", action="store_true", help="compute (and cache) the baselines, then stop")
    p.add_argument("--checkpoint", choices=("best", "last"), default="best",
                   help="the run's best-validation checkpoint or its last")
    p.add_argument("--baseline-batches", choices=("minibatch", "full"), default="minibatch",
                   help="baselines step on the learned optimizer's minibatches, or on the whole support set")
    a = p.parse_args()
    torch.set_num_threads(1)
    full_batch = a.baseline_batches == "full"
    learner, _, state = load_learner(Path(a.run) / f"{a.checkpoint}.pt")
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
              "hidden": learner.config.hidden, "checkpoint": a.checkpoint, "checkpoint_step": state["step"],
              "baseline_batches": a.baseline_batches if learner.config.batch_size else "full", "problems": a.count, "horizons": a.steps,
              "processor": platform.processor() or platform.machine(), "optimizers": {}}
    key = {"learner": {k: v for k, v in learner.config.__dict__.items()}, "dataset": dataset, "count": a.count,
           "tune_count": a.tune_count, "steps": a.steps, "baseline_batches": report["baseline_batches"]}
    results = baselines(learner, train, test, a, full_batch, key)
    if a.baselines_only:
        return
    weights = hashlib.sha256(b"".join(v.numpy().tobytes() for v in learner.net.state_dict().values())).hexdigest()
    learned = cached(a.cache, {"learner": key["learner"], "dataset": dataset, "count": a.count, "horizon": horizon,
                                      "weights": weights}, "learned",
                     lambda: loss_curves(learner, test, horizon, count=a.count))
    results = {"learned (LSTM)": (None, {}, learned), **results}
    learned_curves = results["learned (LSTM)"][2]
    for name, (lr, scores, curves) in results.items():
        entry = {"lr": lr, "tuning": scores, "mean_curve": [round(float(v), 5) for v in curves.mean(0)]}
        for steps in a.steps:
            mean, ci = mean_ci95(curves[:, steps])
            entry[f"final_{steps}"] = {"mean": round(mean, 5), "ci95": round(ci, 5)}
            entry[f"finals_{steps}"] = [float(f"{v:.5g}") for v in curves[:, steps].tolist()]
            entry[f"spread_{steps}"] = spread(curves[:, steps])
            if lr is not None:
                entry[f"paired_{steps}"] = paired(learned_curves[:, steps], curves[:, steps])
        report["optimizers"][name] = entry
        print(name, {k: v for k, v in entry.items() if k.startswith("final_")}, flush=True)
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
    ax.set(yscale="log", xlabel="optimizee step", ylabel=what[0])
    ax.set_title(f"{what[1]}{variant}, {report['problems']} held-out problems", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
