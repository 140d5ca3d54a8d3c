"""MAML-RL on 2D navigation (Finn et al. 2017, Table 4): train, evaluate, time, plot.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_navigation.py [--steps 250] [--skip-train]

Trains ``metalab train --algorithm maml-rl --dataset navigation2d`` (20 tasks per meta-batch,
20 trajectories per step, TRPO outer step) for ``--steps`` meta-iterations (a fixed count,
not ``--budget``: on a shared machine the pace measured in the first steps does not last), evaluates the run with
``metalab eval RUN --json`` on 100 fixed test goals (returns after 0-3 policy-gradient
steps), evaluates a randomly initialised policy fine-tuned the same way, times the simulator
and the parts of a meta-iteration, and writes results/rl/navigation2d/: README.md, meta.json,
raw JSON rows, trajectories.png and returns.png.
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

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "navigation2d"
RUN = ROOT / "runs" / "maml_rl_navigation2d"
PAPER = {"MAML (Finn et al. 2017)": (-40.41, -11.68, -3.33, -3.23),
         "context vector (Finn et al. 2017)": (-42.42, -13.90, -5.17, -3.18)}
TEST_TASKS, SEED = 100, 0


def metalab(*args: str) -> str:
    command = [sys.executable, "-m", "metalab", *args]
    print("$", " ".join(command[2:]), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def train_command(steps: int) -> list[str]:
    return ["train", "--algorithm", "maml-rl", "--dataset", "navigation2d", "--shots", "20", "--queries", "20",
            "--meta-batch", "20", "--steps", str(steps), "--val-every", "50", "--val-episodes", "20", "--threads", "1",
            "--seed", "0", "--out", str(RUN), "--no-progress"]


def timings() -> dict[str, float]:
    """Simulator steps per second (alone and with the policy), and where a meta-iteration's time goes."""
    from metalab.algorithms import build_learner
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
        learner = build_learner("maml-rl", {})
    stream = TaskStream(Navigation2D("train"), TaskShape(None, 20, 20), 20, 1)
    spent = {"rollouts": 0.0, "total": 0.0}
    original = env.rollout
    steps = [0]

    def timed(act, goals, trajectories):
        start = time.perf_counter()
        result = original(act, goals, trajectories)
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


def random_init_curve() -> dict:
    """A randomly initialised policy fine-tuned with the same policy-gradient steps."""
    from metalab.algorithms import build_learner
    from metalab.evaluation.evaluate import evaluate
    from metalab.tasks.navigation import Navigation2D

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("maml-rl", {})
    result = evaluate(learner, Navigation2D("test"), shots=20, queries=20, episodes=TEST_TASKS, seed=SEED)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--skip-train", action="store_true", help="reuse the run folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    command = train_command(args.steps)
    if not args.skip_train:
        metalab(*command)
    log = [json.loads(line) for line in (RUN / "metrics.jsonl").read_text().splitlines()]
    (OUT / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    evaluation = json.loads(metalab("eval", str(RUN), "--shots", "20", "--queries", "20", "--episodes",
                                    str(TEST_TASKS), "--seed", str(SEED), "--threads", "1", "--json"))
    metalab("eval", str(RUN), "--shots", "20", "--queries", "20", "--episodes", "4", "--threads", "1",
            "--plot", str(OUT / "trajectories.png"))
    baseline = random_init_curve()
    speed = timings()
    state = torch.load(RUN / "last.pt", map_location="cpu", weights_only=False)
    steps, elapsed = state["step"], state["elapsed"]
    curve = lambda result: [result["breakdown"][f"return_after_{s}"]["mean"] for s in range(4)]  # noqa: E731
    ci = lambda result: [result["breakdown"][f"return_after_{s}"]["ci95"] for s in range(4)]  # noqa: E731
    rows = {"MAML-RL (metalab)": curve(evaluation), "random init + PG (metalab)": curve(baseline),
            **{k: list(v) for k, v in PAPER.items()}}
    cis = {"MAML-RL (metalab)": ci(evaluation), "random init + PG (metalab)": ci(baseline)}
    plot_returns(rows, cis, OUT / "returns.png")
    (OUT / "evaluation.json").write_text(json.dumps({"maml-rl": evaluation, "random-init": baseline}, indent=1))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    meta = {"command": "metalab " + " ".join(command), "eval_command": f"metalab eval {RUN.relative_to(ROOT)} --shots 20 "
            f"--queries 20 --episodes {TEST_TASKS} --seed {SEED} --json", "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                        "torch": torch.__version__, "threads": 1},
            "meta_iterations": steps, "training_seconds": elapsed, "seconds_per_meta_iteration": elapsed / steps,
            "test_tasks": TEST_TASKS, "seed": SEED, "returns": rows, "ci95": cis, "timing": speed}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
