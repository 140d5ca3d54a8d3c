"""MAML-RL on 2D navigation (Finn et al. 2017, Table 4): train, evaluate, time, plot.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_navigation.py [--steps 250] [--skip-train]
    OMP_NUM_THREADS=1 python benchmarks/maml_rl_navigation.py --baselines [--steps 250] [--skip-train]

With ``--set KEY=VALUE`` (repeatable) every row, the random initialisation's included, takes those
learner hyperparameters, and ``--name NAME`` writes results/rl/NAME/ from runs/NAME_* folders
instead (the default ``navigation2d`` keeps the paper's settings).

Trains ``metalab train --algorithm maml-rl --dataset navigation2d`` (20 tasks per meta-batch,
20 trajectories per step, TRPO outer step) for ``--steps`` meta-iterations (a fixed count,
not ``--budget``: on a shared machine the pace measured in the first steps does not last), evaluates the run with
``metalab eval RUN --json`` on 100 fixed test goals (returns after 0-3 policy-gradient
steps), evaluates a randomly initialised policy fine-tuned the same way, times the simulator
and the parts of a meta-iteration, and writes results/rl/navigation2d/: README.md, meta.json,
raw JSON rows, trajectories.png and returns.png.

``--baselines`` adds the paper's other rows (Finn et al. 2017, Fig. 5) to that table, on the same
test goals and with the same policy-gradient steps: a policy pretrained on all goals
(``--set inner_steps=0``: TRPO on the unadapted policy, then fine-tuned) and the oracle that
observes the goal (``--dataset navigation2d-oracle``, trained the same way). Each is trained for
``--steps`` TRPO iterations with ``metalab train`` and scored with ``metalab eval --json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from maml_rl_navigation_readme import PAPER, write_readme  # benchmarks/ is on the path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "navigation2d"
RUN = ROOT / "runs" / "maml_rl_navigation2d"
TEST_TASKS, SEED = 100, 0
SETTINGS: dict[str, str] = {}  # --set: learner hyperparameters of every row
TEST_TRAJECTORIES = 20  # per adaptation step at test (--test-trajectories)
# row name -> (key in evaluation.json, dataset, run folder, extra train arguments); the paper
# draws these as Fig. 5's curves (no numbers)
BASELINES = {"pretrained + PG (metalab)": ("pretrained", "navigation2d", ROOT / "runs" / "maml_rl_pretrained_navigation2d",
                                           ("--set", "inner_steps=0")),
             "oracle + PG (metalab)": ("oracle", "navigation2d-oracle", ROOT / "runs" / "maml_rl_oracle_navigation2d",
                                       ("--set", "inner_steps=0"))}


def metalab(*args: str) -> str:
    command = [sys.executable, "-m", "metalab", *args]
    print("$", " ".join(command[2:]), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def train_command(steps: int, dataset: str = "navigation2d", run: Path | None = None, extra: tuple[str, ...] = ()
                  ) -> list[str]:
    run = run or RUN
    extra = (*extra, *(a for k, v in SETTINGS.items() for a in ("--set", f"{k}={v}")))
    return ["train", "--algorithm", "maml-rl", "--dataset", dataset, "--shots", "20", "--queries", "20",
            "--meta-batch", "20", "--steps", str(steps), "--val-every", "50", "--val-episodes", "20", "--threads", "1",
            "--seed", "0", "--out", str(run.relative_to(ROOT)), "--no-progress", *extra]


def eval_command(run: Path) -> list[str]:  # a run folder (its best.pt) or a checkpoint file
    """The table's evaluation: ``TEST_TASKS`` fixed test goals (seed ``SEED``), ``TEST_TRAJECTORIES``
    trajectories per step."""
    k = str(TEST_TRAJECTORIES)
    return ["eval", str(run.relative_to(ROOT)), "--shots", k, "--queries", k, "--episodes", str(TEST_TASKS),
            "--seed", str(SEED), "--threads", "1", "--json"]


def timings() -> dict[str, float]:
    """Simulator steps per second (alone and with the policy), and where a meta-iteration's time goes."""
    from metalab.algorithms import build_learner
    from metalab.algorithms.gradient.maml_rl import MAMLRLConfig
    from metalab.checks import convert
    from metalab.tasks.family import TaskShape
    from metalab.tasks.navigation import ENVIRONMENTS, Navigation2D
    from metalab.tasks.stream import TaskStream

    env = ENVIRONMENTS["navigation2d"]
    goals = torch.rand(20, 2, generator=torch.Generator().manual_seed(0)) - 0.5
    clock = time.perf_counter()
    for _ in range(5):
        rollouts = env.rollout(lambda obs, t: torch.full_like(obs, 0.05), goals, 20)
    sim = 5 * 20 * 20 * env.horizon / (time.perf_counter() - clock)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("maml-rl", {k: convert(MAMLRLConfig, k, v) for k, v in SETTINGS.items()})
    stream = TaskStream(Navigation2D("train"), TaskShape(None, 20, 20), 20, 1)
    spent = {"rollouts": 0.0, "total": 0.0}
    original = env.rollout
    steps = [0]

    def timed(act, goals, trajectories, seeds=None):
        start = time.perf_counter()
        result = original(act, goals, trajectories, seeds)
        spent["rollouts"] += time.perf_counter() - start
        steps[0] += result.mask.numel()
        return result

    object.__setattr__(learner, "env", type("Timed", (), {"rollout": staticmethod(timed), "horizon": env.horizon,
                                                          "actions": env.actions})())
    iterations = 5
    for _ in range(iterations):
        batch = next(stream)
        start = time.perf_counter()
        list(learner.meta_losses(batch))
        spent["total"] += time.perf_counter() - start
    return {"simulator_steps_per_s": sim, "simulator_steps_per_s_with_policy": steps[0] / spent["rollouts"],
            "meta_iteration_s": spent["total"] / iterations, "rollout_share": spent["rollouts"] / spent["total"],
            "simulator_steps_per_meta_iteration": steps[0] / iterations}


def return_after(result: dict, steps: int) -> tuple[float, float]:
    """Mean return over the test goals after ``steps`` policy-gradient steps and its 95% CI,
    from one ``metalab eval --json`` result (its ``breakdown``)."""
    row = result["breakdown"][f"return_after_{steps}"]
    return row["mean"], row["ci95"]


def random_init_curve(settings: dict[str, str]) -> dict:
    """A randomly initialised policy fine-tuned with the same policy-gradient steps."""
    from metalab.algorithms import build_learner
    from metalab.algorithms.gradient.maml_rl import MAMLRLConfig
    from metalab.checks import convert
    from metalab.evaluation.evaluate import evaluate
    from metalab.tasks.navigation import Navigation2D

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("maml-rl", {k: convert(MAMLRLConfig, k, v) for k, v in settings.items()})
    result = evaluate(learner, Navigation2D("test"), shots=TEST_TRAJECTORIES, queries=TEST_TRAJECTORIES,
                      episodes=TEST_TASKS, seed=SEED)
    return result.to_json()


def plot_returns(rows: dict[str, list[float]], cis: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for name, values in rows.items():
        ax.errorbar(range(len(values)), values, yerr=cis.get(name), marker="o", capsize=3, label=name,
                    ls="--" if "Finn" in name else "-")
    ax.set(xlabel="policy-gradient steps", ylabel="mean return", xticks=range(4), title="2D navigation")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curve(result: dict) -> tuple[list[float], list[float]]:
    """Mean returns after 0-3 steps and their 95% CIs, from one ``metalab eval --json`` result."""
    return [return_after(result, s)[0] for s in range(4)], [return_after(result, s)[1] for s in range(4)]


def baselines(steps: int, skip_train: bool) -> None:
    """Train and evaluate the pretrained and oracle baselines; add their rows to meta.json, the
    table, the plot and evaluation.json (the MAML-RL and random-initialisation rows are kept)."""
    meta = json.loads((OUT / "meta.json").read_text())
    evaluations = json.loads((OUT / "evaluation.json").read_text())
    meta["baselines"] = {}
    for name, (key, dataset, run, extra) in BASELINES.items():
        command = train_command(steps, dataset, run, extra)
        if not skip_train:
            metalab(*command)
        result = json.loads(metalab(*eval_command(run)))
        state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
        meta["returns"][name], meta["ci95"][name] = curve(result)
        meta["baselines"][name] = {
            "command": "metalab " + " ".join(command), "eval_command": "metalab " + " ".join(eval_command(run)),
            "meta_iterations": state["step"], "training_seconds": state["elapsed"],
            "policy_std": state["model"]["policy.log_std"].exp().flatten().tolist()}
        evaluations[key] = result
        meta.setdefault("commands", []).extend(meta["baselines"][name][k] for k in ("command", "eval_command"))
        # the run's last checkpoint too: best.pt is chosen on the return after the last step
        last = json.loads(metalab(*eval_command(run / "last.pt")))
        evaluations[f"{key}-last"] = last
        meta["baselines"][name]["last"] = {"returns": curve(last)[0], "ci95": curve(last)[1],
                                           "checkpoint_step": last.get("checkpoint_step")}
        meta["baselines"][name]["best_step"] = result.get("checkpoint_step")
    meta.setdefault("commands", []).append(" ".join(["python", "benchmarks/maml_rl_navigation.py", *sys.argv[1:]]))
    pretrained = BASELINES["pretrained + PG (metalab)"][2]
    metalab("eval", str(pretrained.relative_to(ROOT)), "--shots", "20", "--queries", "20", "--episodes", "4",
            "--threads", "1", "--plot", str(OUT / "trajectories_pretrained.png"))
    order = ["MAML-RL (metalab)", *BASELINES, "random init + PG (metalab)", *PAPER]
    meta["returns"] = {k: meta["returns"][k] for k in order}
    meta["baselines_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                              cwd=ROOT).stdout.strip()
    meta["baselines_date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    plot_returns(meta["returns"], meta["ci95"], OUT / "returns.png")
    (OUT / "evaluation.json").write_text(json.dumps(evaluations, indent=1))
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    write_readme(meta, OUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--skip-train", action="store_true", help="reuse the run folder")
    parser.add_argument("--readme-only", action="store_true", help="rewrite README.md from meta.json")
    parser.add_argument("--baselines", action="store_true", help="add the pretrained and oracle rows")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a learner hyperparameter for every row (repeatable)")
    parser.add_argument("--test-trajectories", type=int, default=20,
                        help="trajectories per adaptation step at test (Finn et al.'s test script: 4000 steps, >= 40)")
    parser.add_argument("--name", default="navigation2d", help="results/rl/NAME and runs/NAME_* (with --set)")
    args = parser.parse_args()
    global OUT, RUN, BASELINES, SETTINGS, TEST_TRAJECTORIES  # one benchmark invocation writes one results folder
    SETTINGS, TEST_TRAJECTORIES = dict(item.split("=", 1) for item in args.set), args.test_trajectories
    if args.name != "navigation2d":
        OUT, RUN = ROOT / "results" / "rl" / args.name, ROOT / "runs" / f"{args.name}_maml_rl"
        BASELINES = {name: (key, dataset, ROOT / "runs" / f"{args.name}_{key}", extra)
                     for name, (key, dataset, _, extra) in BASELINES.items()}
    if args.readme_only:
        write_readme(json.loads((OUT / "meta.json").read_text()), OUT)
        return
    torch.set_num_threads(1)
    if args.baselines:
        baselines(args.steps, args.skip_train)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    command = train_command(args.steps)
    if not args.skip_train:
        metalab(*command)
    log = [json.loads(line) for line in (RUN / "metrics.jsonl").read_text().splitlines()]
    (OUT / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    evaluation = json.loads(metalab(*eval_command(RUN)))
    metalab("eval", str(RUN), "--shots", "20", "--queries", "20", "--episodes", "4", "--threads", "1",
            "--plot", str(OUT / "trajectories.png"))
    baseline = random_init_curve(SETTINGS)
    speed = timings()
    state = torch.load(RUN / "last.pt", map_location="cpu", weights_only=False)
    steps, elapsed = state["step"], state["elapsed"]
    rows = {"MAML-RL (metalab)": curve(evaluation)[0], "random init + PG (metalab)": curve(baseline)[0],
            **{k: list(v) for k, v in PAPER.items()}}
    cis = {"MAML-RL (metalab)": curve(evaluation)[1], "random init + PG (metalab)": curve(baseline)[1]}
    plot_returns(rows, cis, OUT / "returns.png")
    (OUT / "evaluation.json").write_text(json.dumps({"maml-rl": evaluation, "random-init": baseline}, indent=1))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    meta = {"command": "metalab " + " ".join(command), "eval_command": "metalab " + " ".join(eval_command(RUN)),
            "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                        "torch": torch.__version__, "threads": 1},
            "meta_iterations": steps, "training_seconds": elapsed, "seconds_per_meta_iteration": elapsed / steps,
            "test_tasks": TEST_TASKS, "seed": SEED, "returns": rows, "ci95": cis, "timing": speed,
            "settings": SETTINGS, "test_trajectories": TEST_TRAJECTORIES,
            "commands": ["metalab " + " ".join(command), "metalab " + " ".join(eval_command(RUN)),
                         " ".join(["python", "benchmarks/maml_rl_navigation.py", *sys.argv[1:]])],
            "budget": f"{steps} meta-iterations (fixed step count), {elapsed / 60:.1f} min on 1 thread of a shared "
                      "2-core machine",
            "policy_std": state["model"]["policy.log_std"].exp().flatten().tolist()}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    write_readme(meta, OUT)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
