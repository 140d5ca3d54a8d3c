"""MANN and its LSTM baseline on Santoro et al. (2016)'s 5-class Omniglot sequences.

Usage: OMP_NUM_THREADS=1 python benchmarks/mann_omniglot.py --out results/omniglot/mann \
    [--minutes 22] [--baseline-minutes 6] [--episodes 1000] [--key-strength] [--mann-option KEY=VALUE ...] [--optimizer rmsprop --lr 1e-4]
    [--train-part train+val]

Each learner is meta-trained with ``metalab.training.train`` (the shared loop) for a wall-clock
budget on sequences of 5 classes x 10 instances (50 steps, label shown one step late) from the
Vinyals split's training characters (1100, or with ``--train-part train+val`` all 1200 as in
the paper; with their 90/180/270 degree rotations as classes),
images downsampled to 20x20. Its last checkpoint is then scored on ``--episodes`` fixed seeded
test sequences (seed 0; 423 test characters with rotations): accuracy on the 1st, 2nd, 3rd, 4th,
5th and 10th presentation of a class, mean and 95% CI over episodes. MANN is also scored under
the one interface (``adapt`` on a support set) on standard fixed 5-way 1-shot and 5-shot test
episodes. Writes ``results.json``, ``meta.json``, ``accuracy_by_instance.png``, and each run's
``<name>_metrics.jsonl`` / ``<name>_config.yaml`` (the learning curve and exact configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

from metalab.data.preprocess import Preprocess
from metalab.evaluation.evaluate import evaluate, mean_ci95
from metalab.tasks.registry import load_tasks
from metalab.tasks.sequences import REPORTED_INSTANCES, instance_accuracy, ordinal
from metalab.tasks.family import TaskShape
from metalab.tasks.stream import fixed_tasks
from metalab.training.checkpoint import load_learner
from metalab.training.config import TrainConfig
from metalab.training.loop import train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

PAPER = {  # Santoro et al. 2016, Table 1, 5 classes: accuracy (%) by instance
    "MANN": dict(zip(REPORTED_INSTANCES, (36.4, 82.8, 91.0, 92.6, 94.9, 98.1))),
    "LSTM": dict(zip(REPORTED_INSTANCES, (24.4, 49.5, 55.3, 61.0, 63.6, 62.5))),
    "humans": dict(zip(REPORTED_INSTANCES, (34.5, 57.3, 70.1, 71.8, 81.4, 92.4))),
}
SHAPE = TaskShape(5, 10, 1)


def by_instance(learner, family, episodes: int, seed: int) -> dict[str, list[float]]:
    """Per-instance accuracy (%) over fixed test sequences: ordinal -> [mean, ci95]."""
    rows = []
    for batch in fixed_tasks(family, SHAPE, seed=seed, count=episodes, batch=50):
        rows.append(instance_accuracy(learner.predict(batch), batch.query_y, SHAPE.shots))
    table = torch.cat(rows) * 100
    out = {}
    for i in range(1, SHAPE.shots + 1):
        mean, ci = mean_ci95(table[:, i - 1])
        out[ordinal(i)] = [round(mean, 2), round(ci, 2)]
    overall = mean_ci95(table.mean(1))
    out["all"] = [round(overall[0], 2), round(overall[1], 2)]
    return out


def run(name: str, learner_values: dict, minutes: float, args, out: Path) -> dict:
    folder = Path(args.runs) / name
    if args.reuse and (folder / "last.pt").exists():
        return score(name, folder, learner_values, args, out)
    if folder.exists():
        shutil.rmtree(folder)
    config = TrainConfig(
        algorithm="mann", dataset="omniglot-sequences", data_dir=args.data, ways=5, shots=10, queries=1,
        meta_batch=args.meta_batch, budget=minutes * 60, optimizer=args.optimizer, lr=args.lr, schedule=args.schedule,
        grad_clip=args.grad_clip,
        val_every=args.val_every, val_episodes=100, seed=args.seed, out=str(folder), device="cpu", threads=1,
        learner=learner_values, preprocess={"size": 20}, train_part=args.train_part,
    )
    if args.processes == 1:
        train(config, progress=False, command=["python", "benchmarks/mann_omniglot.py"])
    else:  # one process per core (torchrun, gloo); --meta-batch episodes per process
        config_file = folder.parent / f"{name}_torchrun.yaml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
        subprocess.run(["torchrun", "--nproc_per_node", str(args.processes), "-m", "metalab", "train", "--config",
                        str(config_file), "--no-progress"], check=True)
    return score(name, folder, learner_values, args, out)


def score(name: str, folder: Path, learner_values: dict, args, out: Path) -> dict:
    """Test scores of the run's last checkpoint, with its length from its training log."""
    learner, _, state = load_learner(folder / "last.pt")
    steps, elapsed = state["step"], float(state.get("elapsed", 0.0))
    test = load_tasks("omniglot-sequences", "test", data_dir=args.data, preprocess=Preprocess(size=20))
    record = {"steps": steps, "processes": args.processes, "episodes_seen": steps * args.meta_batch * args.processes,
              "train_seconds": round(elapsed, 1),
              "seconds_per_batch": round(elapsed / max(1, steps), 3),
              "learner": learner_values, "by_instance": by_instance(learner, test, args.episodes, 0)}
    if learner.config.memory:
        images = load_tasks("omniglot", "test", data_dir=args.data, preprocess=Preprocess(size=20))
        record["standard_episodes"] = {
            f"5-way {k}-shot": evaluate(learner, images, ways=5, shots=k, queries=15, episodes=600).to_json()
            for k in (1, 5)
        }
    shutil.copy(folder / "metrics.jsonl", out / f"{name}_metrics.jsonl")
    shutil.copy(folder / "config.yaml", out / f"{name}_config.yaml")
    return record


def instance_figure(results: dict, learner: str, instance: str) -> tuple[float, float]:
    """Accuracy (%) of ``learner`` ("mann" or "lstm") on the ``instance``-th presentation of a
    class ("1st".."10th", or "all" for every step) and its 95% CI, from ``results.json``."""
    mean, ci = results[learner]["by_instance"][instance]
    return mean, ci


def figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = list(REPORTED_INSTANCES)
    for (name, style), colour in zip((("MANN", "-"), ("LSTM", "-")), ("C0", "C1")):
        key = name.lower()
        if key in results:
            means, cis = zip(*(instance_figure(results, key, ordinal(i)) for i in range(1, 11)))
            ax.errorbar(range(1, 11), means, yerr=cis, fmt="o" + style, color=colour, capsize=3, label=f"{name} (ours)")
        ax.plot(xs, [PAPER[name][i] for i in xs], "s--", color=colour, alpha=0.6, label=f"{name} (paper)")
    ax.plot(xs, [PAPER["humans"][i] for i in xs], "^:", color="grey", alpha=0.6, label="humans (paper)")
    ax.set(xlabel="instance (presentation of a class)", ylabel="accuracy (%)", ylim=(0, 100),
           title="5-class Omniglot sequences")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/omniglot/mann")
    parser.add_argument("--runs", default="runs/mann_bench")
    parser.add_argument("--data", default=None)
    parser.add_argument("--minutes", type=float, default=22.0)
    parser.add_argument("--baseline-minutes", type=float, default=6.0)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--meta-batch", type=int, default=16, help="episodes per step (per process)")
    parser.add_argument("--processes", type=int, default=1,
                        help="train on this many processes, one per core (torchrun, gloo), each --meta-batch episodes")
    parser.add_argument("--optimizer", default="adam", help="adam or rmsprop (Santoro et al.: rmsprop, lr 1e-4)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--schedule", default="constant", help="constant or cosine (to zero at the budget's end)")
    parser.add_argument("--grad-clip", type=float, default=10.0, help="global gradient-norm clip")
    parser.add_argument("--val-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-part", default="train",
                        help="train (1100 characters) or train+val (all 1200 meta-training characters, as the paper)")
    parser.add_argument("--key-strength", action="store_true")
    parser.add_argument("--mann-option", action="append", default=[], metavar="KEY=VALUE",
                        help="another MANN option (value parsed as YAML), e.g. read_before_write=true")
    parser.add_argument("--reuse", action="store_true", help="score existing runs' last.pt instead of training")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"paper": {k: {ordinal(i): v for i, v in row.items()} for k, row in PAPER.items()}}
    options = {"key_strength": args.key_strength}
    for item in args.mann_option:
        key, equals, value = item.partition("=")
        if not equals:
            parser.error(f"--mann-option {item!r}: give KEY=VALUE, e.g. read_before_write=true")
        options[key] = yaml.safe_load(value)
    results["mann"] = run("mann", options, args.minutes, args, out)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if args.baseline_minutes > 0:
        results["lstm"] = run("lstm", {"memory": False}, args.baseline_minutes, args, out)
        (out / "results.json").write_text(json.dumps(results, indent=1))
    figure(results, out / "accuracy_by_instance.png")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    pinning = "taskset -c 0 " if args.processes == 1 else ""
    command = f"OMP_NUM_THREADS=1 {pinning}python benchmarks/mann_omniglot.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if v is not None and not isinstance(v, (bool, list))) + "".join(
        f" --mann-option {item}" for item in args.mann_option) + "".join(
        f" --{k.replace('_', '-')}" for k, v in vars(args).items() if v is True)
    budget = "; ".join(f"{name}: {minutes:g} min budget, {results[name]['steps']} steps of "
                       f"{args.meta_batch * args.processes} episodes "
                       f"in {results[name]['train_seconds'] / 60:.1f} min" for name, minutes in
                       (("mann", args.minutes), ("lstm", args.baseline_minutes)) if name in results)
    meta = {"commands": [command], "budget": budget, "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{cpu_model()}, {os.cpu_count()} cores, " + (
                "one thread pinned to one core" if args.processes == 1
                else f"{args.processes} processes x 1 thread (torchrun, gloo)"),
            "platform": platform.machine(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "torch": torch.__version__, "test_episodes": args.episodes, "test_seed": 0, "task": "5 classes x 10 instances",
            "split": "vinyals (1100 train / 100 val / 423 test characters, 4 rotations each)" + (
                "; trained on train+val (1200 characters)" if args.train_part == "train+val" else ""),
            "paper": "Santoro et al. 2016, Table 1 (5 classes, one-hot labels); not verified against the paper (the "
                     "MANN 2nd/3rd/5th figures agree with NUTM, ICLR 2020, Table 10)"}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps({k: v.get("by_instance") for k, v in results.items() if k != "paper"}, indent=1))


if __name__ == "__main__":
    main()
