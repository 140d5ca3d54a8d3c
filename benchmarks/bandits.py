"""RL^2 and classical strategies on Bernoulli bandits (Duan et al. 2016, Table 1).

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bandits.py [--episodes 500] [--skip-train]

Trains RL^2 (``metalab train --config configs/rl2_bandit_k5_n{10,100}.yaml``: a fixed step
count each) unless its run folder already holds the finished run, evaluates each run with
``metalab eval RUN --json`` on fixed test tasks, scores random, greedy, epsilon-greedy, UCB1,
Thompson sampling and Gittins indices on the same tasks and trials (the same reward tables),
for k = 5 and 10 arms and n = 10, 100 and 500 pulls, and writes results/rl/bandits/:
README.md, meta.json and results.json (every row with its per-task scores).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "bandits"
RUNS = ROOT / "runs" / "bandits"
# (arms, pulls) -> NAMEs: configs/rl2_bandit_NAME.yaml trains runs/bandits/rl2_NAME; of several
# runs of a setting the table reports the one with the best validation score (all are in results.json)
TRAINED = {(5, 10): ["k5_n10"], (10, 10): ["k10_n10"],
           (5, 100): ["k5_n100", "k5_n100_std", "k5_n100_long", "k5_n100_3k"], (10, 100): ["k10_n100_3k"],
           (5, 500): ["k5_n500"], (10, 500): ["k10_n500"]}
# runs trained at idle priority beside other jobs: their wall time measures the machine's load, not their cost
IDLE_PRIORITY = {"k5_n100_3k", "k10_n100_3k", "k5_n500", "k10_n500"}
SETTINGS = [(k, n) for n in (10, 100, 500) for k in (5, 10)]
STRATEGY_NAMES = {"random": "Random", "gittins": "Gittins", "thompson": "TS", "ucb1": "UCB1",
                  "epsilon-greedy": "eps-greedy", "greedy": "Greedy"}
# Duan et al. 2016, Table 1: total reward per trial (columns Random, Gittins, TS, OTS, UCB1,
# eps-greedy, Greedy, RL^2), rows (n, k).
PAPER_COLUMNS = ("random", "gittins", "thompson", "ots", "ucb1", "epsilon-greedy", "greedy", "rl2")
PAPER = {
    (5, 10): (5.0, 6.6, 5.7, 6.5, 6.7, 6.6, 6.6, 6.7),
    (10, 10): (5.0, 6.6, 5.5, 6.2, 6.7, 6.6, 6.6, 6.7),
    (5, 100): (49.9, 78.3, 74.7, 77.9, 78.0, 75.4, 74.8, 78.7),
    (10, 100): (49.9, 82.8, 76.7, 81.4, 82.4, 77.4, 77.1, 83.5),
    (5, 500): (249.8, 405.8, 402.0, 406.7, 405.8, 388.2, 380.6, 401.6),
    (10, 500): (249.0, 437.8, 429.5, 438.9, 437.1, 408.0, 395.0, 432.5),
}
TRIALS, SEED = 4, 0


def metalab(*args: str) -> str:
    command = [sys.executable, "-m", "metalab", *args]
    print("$", "metalab", " ".join(args), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def run_folder(name: str) -> Path:
    return RUNS / f"rl2_{name}"


def train_args(name: str) -> list[str]:
    return ["train", "--config", f"configs/rl2_bandit_{name}.yaml", "--out", str(run_folder(name).relative_to(ROOT)),
            "--no-progress"]


def eval_args(config: str, pulls: int, episodes: int) -> list[str]:
    return ["eval", str(run_folder(config).relative_to(ROOT)), "--shots", str(pulls), "--queries", str(TRIALS),
            "--episodes", str(episodes), "--seed", str(SEED), "--batch", "50", "--threads", "1", "--json"]


def finished(config: str) -> dict | None:
    """The run's last checkpoint summary if it reached its step count."""
    last = run_folder(config) / "last.pt"
    if not last.exists():
        return None
    state = torch.load(last, map_location="cpu", weights_only=False)
    done = state["total_steps"] is not None and state["step"] >= state["total_steps"]
    best = state["best"]["val"] or {}
    cpu = run_folder(config) / "cpu_seconds.json"  # written when this script trains the run
    return {"steps": state["step"], "training_seconds": round(state["elapsed"], 1), "best_step": state["best"]["step"],
            "best_val": [round(best.get("mean", float("nan")), 4), round(best.get("ci95", float("nan")), 4)],
            "cpu_seconds": json.loads(cpu.read_text())["user"] if cpu.exists() else None} if done else None


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean and 95% CI half-width of the per-task difference ``a - b``."""
    diff = torch.tensor(a, dtype=torch.float64) - torch.tensor(b, dtype=torch.float64)
    return float(diff.mean()), 1.96 * float(diff.std()) / math.sqrt(len(diff))


def row(result, **extra) -> dict:
    regret, regret_ci = result.breakdown["regret"]
    return {"total_reward": round(result.mean, 4), "ci95": round(result.ci95, 4), "regret": round(regret, 4),
            "regret_ci95": round(regret_ci, 4), "scores": [round(s, 4) for s in result.scores], **extra}


def rl2_row(config: str, arms: int, pulls: int, episodes: int, strategies: dict, commands: list[str]) -> dict:
    """``metalab eval`` of a run, its per-task scores, and paired differences with Thompson and Gittins."""
    from metalab.evaluation.evaluate import evaluate
    from metalab.tasks.bandit import Bandit
    from metalab.training.checkpoint import load_learner

    command = eval_args(config, pulls, episodes)
    commands.append("metalab " + " ".join(command))
    values = json.loads(metalab(*command))
    regret = values["breakdown"]["regret"]
    out = {"total_reward": values["total_reward"], "ci95": values["ci95"], "regret": regret["mean"],
           "regret_ci95": regret["ci95"], "checkpoint_step": values["checkpoint_step"]}
    learner = load_learner(run_folder(config) / "best.pt")[0]  # what eval read: the per-task scores
    result = evaluate(learner, Bandit("test"), ways=arms, shots=pulls, queries=TRIALS, episodes=episodes, seed=SEED,
                      batch=50)
    assert abs(result.mean - values["total_reward"]) < 1e-3, (result.mean, values)
    out["scores"] = [round(v, 4) for v in result.scores]
    for other in ("thompson", "gittins"):
        mean, ci = paired(result.scores, strategies[other]["scores"])
        out[f"minus_{other}"] = {"mean": round(mean, 4), "ci95": round(ci, 4)}
    print(f"k{arms}_n{pulls}", config, values["total_reward"], out["minus_thompson"], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=500, help="fixed test tasks per setting")
    parser.add_argument("--skip-train", action="store_true", help="use the runs as they are")
    parser.add_argument("--keep", action="store_true",
                        help="for a run whose folder is gone, keep its row from the existing results.json "
                        "(same test tasks; its commit is in meta.json's kept_from)")
    args = parser.parse_args()
    old_rows, old_meta = {}, {}
    if args.keep and (OUT / "results.json").exists():
        old_rows = json.loads((OUT / "results.json").read_text())["rows"]
        old_meta = json.loads((OUT / "meta.json").read_text())
    torch.set_num_threads(1)
    from metalab.evaluation.bandits import STRATEGIES, evaluate_strategy
    from metalab.tasks.bandit import Bandit
    from metalab.tasks.family import TaskShape

    commands, training, kept = [], {}, {}
    for config in (name for names in TRAINED.values() for name in names):
        commands.append("OMP_NUM_THREADS=1 taskset -c 1 metalab " + " ".join(train_args(config)))
        if not args.skip_train and finished(config) is None:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            metalab(*train_args(config))
            used = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
            (run_folder(config) / "cpu_seconds.json").write_text(json.dumps({"user": round(used, 1)}))
        training[config] = finished(config)
        if training[config] is None and not run_folder(config).exists() and old_meta:
            training[config] = old_meta["budget"]["rl2_training"].get(config)
            kept[config] = old_meta.get("kept_from", {}).get(config, old_meta["commit"])

    rows: dict[str, dict[str, dict]] = {}
    for arms, pulls in SETTINGS:
        key = f"k{arms}_n{pulls}"
        rows[key] = {}
        shape = TaskShape(arms, pulls, TRIALS)
        for name in STRATEGIES:
            clock = time.perf_counter()
            result = evaluate_strategy(name, Bandit("test"), shape, episodes=args.episodes, seed=SEED)
            rows[key][name] = row(result, seconds=round(time.perf_counter() - clock, 2))
            print(key, name, f"{result.mean:.2f} ± {result.ci95:.2f}", flush=True)
        for config in TRAINED.get((arms, pulls), []):
            if config in kept:
                rows[key][f"rl2:{config}"] = old_rows[key][f"rl2:{config}"]
                commands.append("metalab " + " ".join(eval_args(config, pulls, args.episodes)))
            elif training[config]:
                rows[key][f"rl2:{config}"] = rl2_row(config, arms, pulls, args.episodes, rows[key], commands)
        runs = [name for name in TRAINED.get((arms, pulls), []) if training[name]]
        if runs:
            chosen = max(runs, key=lambda name: training[name]["best_val"][0])
            rows[key]["rl2"] = {**rows[key][f"rl2:{chosen}"], "run": chosen}

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"processor": platform.machine(), "cpus": os.cpu_count(),
                    "torch": torch.__version__, "threads": 1},
        "commit": commit,
        "commands": ["OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/bandits.py", *commands],
        "budget": {"rl2_training": {config: info for config, info in training.items()},
                   "note": "fixed step counts (configs/rl2_bandit_*.yaml), one thread on one shared core"},
        "test_tasks": args.episodes, "trials_per_task": TRIALS, "seed": SEED,
        **({"kept_from": kept} if kept else {}),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({"rows": rows, "paper": {
        f"k{k}_n{n}": dict(zip(PAPER_COLUMNS, v)) for (k, n), v in PAPER.items()}}, indent=1) + "\n")
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    (OUT / "README.md").write_text(readme(rows, meta, training))
    print("wrote", OUT)


def trained_note() -> str:
    """Which settings RL^2 was trained for (the README's cells of the others say "not trained")."""
    missing = [(k, n) for k, n in SETTINGS if (k, n) not in TRAINED]
    if not missing:
        return "RL^2 was trained in every setting."
    return ("RL^2 was trained for " + "; ".join(f"n={n}, k={k}" for k, n in TRAINED)
            + ' only; the other RL^2 cells say "not trained".')


def kept_note(meta: dict) -> str:
    kept = meta.get("kept_from")
    if not kept:
        return ""
    return ("\nThe RL^2 rows of " + ", ".join(f"`{c}` (commit {commit})" for c, commit in kept.items())
            + " were evaluated earlier on the same test tasks and kept (their run folders are not on this machine).")


def readme(rows: dict, meta: dict, training: dict) -> str:
    methods = [*STRATEGY_NAMES, "rl2"]
    header = "| setting | " + " | ".join(STRATEGY_NAMES.get(m, "RL^2") for m in methods) + " |"
    lines = [header, "|" + "---|" * (len(methods) + 1)]
    for arms, pulls in SETTINGS:
        key, paper = f"k{arms}_n{pulls}", dict(zip(PAPER_COLUMNS, PAPER[arms, pulls]))
        cells = []
        for m in methods:
            ours = rows[key].get(m)
            text = f"{ours['total_reward']:.2f} ± {ours['ci95']:.2f}" if ours else "not trained"
            cells.append(f"{text} ({paper[m]:g})")
        lines.append(f"| n={pulls}, k={arms} | " + " | ".join(cells) + " |")
    regret = ["| setting | " + " | ".join(STRATEGY_NAMES.get(m, "RL^2") for m in methods) + " |",
              "|" + "---|" * (len(methods) + 1)]
    for arms, pulls in SETTINGS:
        key = f"k{arms}_n{pulls}"
        regret.append(f"| n={pulls}, k={arms} | " + " | ".join(
            f"{rows[key][m]['regret']:.2f} ± {rows[key][m]['regret_ci95']:.2f}" if m in rows[key] else "-"
            for m in methods) + " |")
    verdicts = []
    for (arms, pulls), names in TRAINED.items():
        key = f"k{arms}_n{pulls}"
        for config in names:
            rl2 = rows[key].get(f"rl2:{config}")
            if not rl2:
                continue
            ts, diff, info = rows[key]["thompson"], rl2["minus_thompson"], training[config]
            overlap = abs(rl2["total_reward"] - ts["total_reward"]) <= rl2["ci95"] + ts["ci95"]
            inside = abs(rl2["total_reward"] - ts["total_reward"]) <= ts["ci95"]
            side = "inside" if inside else ("above" if rl2["total_reward"] > ts["total_reward"] else "below")
            shown = " (in the table)" if rows[key]["rl2"]["run"] == config else ""
            cpu = "" if info["cpu_seconds"] is None else f" ({info['cpu_seconds'] / 60:.1f} min CPU)"
            verdicts.append(
                f"- n={pulls}, k={arms}, run `{config}`{shown}: RL^2 {rl2['total_reward']:.2f} ± {rl2['ci95']:.2f}, "
                f"Thompson sampling {ts['total_reward']:.2f} ± {ts['ci95']:.2f}: RL^2 is "
                f"{side} Thompson sampling's CI ({'overlapping' if overlap else 'disjoint'} "
                f"intervals). Paired on the same tasks, RL^2 - TS = {diff['mean']:+.2f} ± {diff['ci95']:.2f}; RL^2 - "
                f"Gittins = {rl2['minus_gittins']['mean']:+.2f} ± {rl2['minus_gittins']['ci95']:.2f}. "
                f"{info['steps']} steps, {info['training_seconds'] / 60:.1f} min wall time"
                f"{' at idle priority beside other jobs' if config in IDLE_PRIORITY else ''}{cpu}; best validation "
                f"{info['best_val'][0]:.2f} ± {info['best_val'][1]:.2f} at step {info['best_step']}.")
    return f"""# RL^2 and classical strategies on Bernoulli bandits

Duan et al. (2016), Sec. 4.1 and Table 1: k-armed Bernoulli bandits with arm probabilities drawn
from Uniform[0, 1], n pulls per trial; the score is a trial's total reward. RL^2 is a GRU policy
(64 units, inputs: previous arm one-hot, reward, done) whose memory persists across the n pulls,
meta-trained with PPO across tasks (`metalab train --algorithm rl2 --dataset bandit`). The classical
strategies (metalab.evaluation.bandits) play the same {meta['test_tasks']} fixed test tasks x
{meta['trials_per_task']} trials, against the same reward tables (seed {meta['seed']}).

Commit {meta['commit']}, {meta['date']}, {meta['machine']['processor']} with {meta['machine']['cpus']} shared
CPUs, torch {meta['machine']['torch']}, one thread. Commands: meta.json; raw rows with per-task scores: results.json.{kept_note(meta)}

## Total reward per trial (mean ± 95% CI over tasks; the paper's figure in parentheses)

{chr(10).join(lines)}

## Pseudo-regret per trial (n max p - sum of the pulled arms' p; mean ± 95% CI)

{chr(10).join(regret)}

## RL^2 against Thompson sampling

{chr(10).join(verdicts)}

## What differs from the paper

- RL^2 is trained with PPO (8 epochs per meta-batch, GAE with discount 0.99 and lambda 0.95) instead
  of TRPO, with a 64-unit GRU instead of 256 units, and for minutes on one shared CPU core with
  {', '.join(f"{c}: {training[c]['steps']} steps" for c in training if training[c])}
  (meta-batches of 32 tasks x 4 trials at n=10, 16 x 4 at n=100 and n=500). {trained_note()} At n=100
  a second run standardises the advantages per task (`k5_n100_std`), a third does so for twice
  the steps (`k5_n100_long`) and a fourth for 3000 steps (`k5_n100_3k`, and `k10_n100_3k` for 10
  arms); at n=500 one run per arm count trains 1500 steps (a step there costs five times one at
  n=100). The table shows the run with the best score on the validation tasks (never the test tasks).
- Gittins: the discounted index for Beta(1, 1) priors by calibration (dynamic programming on a
  grid of retirement rewards, truncated where the discount factor's power falls under 1e-3), with
  discount 1 - 1/n, an approximation for a finite trial. The index of Beta(1, 1) at discount 0.9
  is 0.7029 as in Gittins' tables (tests/evaluation/test_bandits.py).
- UCB1 is the textbook one (each arm once, then mean + sqrt(2 ln t / n_a)) and epsilon-greedy
  uses epsilon = 0.1, both untuned; greedy and epsilon-greedy pull each arm once first. The paper's
  UCB1 figures are far above textbook UCB1's, so its constants were probably tuned; optimistic
  Thompson sampling (OTS) is not implemented (its paper figures are in results.json).
- The paper's figures were transcribed without the paper's text at hand here: our Thompson
  sampling and Gittins rows, computed independently, land within their CIs of them, which
  supports the transcription, but treat the figures in parentheses as approximate.
"""


if __name__ == "__main__":
    main()
