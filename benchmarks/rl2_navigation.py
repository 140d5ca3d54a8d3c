"""RL^2 on 2D navigation beside MAML-RL: train, evaluate, write results/rl/rl2_navigation2d/.

    OMP_NUM_THREADS=1 python benchmarks/rl2_navigation.py [--skip-train]

Trains ``metalab train --config configs/rl2_navigation2d.yaml`` (a GRU policy, trials of 2
episodes of one goal with the hidden state kept across them, PPO), scores it with ``metalab
eval --json`` on the 100 fixed test goals of ``benchmarks/maml_rl_navigation.py`` (seed 0; 20
trials per goal): the mean return of each episode of a trial, beside MAML-RL's return after
0-3 policy-gradient steps (read from results/rl/navigation2d/meta.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from maml_rl_navigation import metalab  # the same `python -m metalab` runner (benchmarks/ is on the path)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "rl2_navigation2d"
RUN = ROOT / "runs" / "rl2_navigation2d"
CONFIG = "configs/rl2_navigation2d.yaml"
TEST_TASKS, SEED = 100, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-train", action="store_true", help="reuse the run folder")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    train = ["train", "--config", CONFIG, "--out", str(RUN.relative_to(ROOT)), "--no-progress"]
    if not args.skip_train:
        metalab(*train)
    evaluation = ["eval", str(RUN.relative_to(ROOT)), "--shots", "20", "--queries", "20", "--episodes", str(TEST_TASKS),
                  "--seed", str(SEED), "--threads", "1", "--json"]
    result = json.loads(metalab(*evaluation))
    state = torch.load(RUN / "last.pt", map_location="cpu", weights_only=False)
    (OUT / "evaluation.json").write_text(json.dumps({"rl2": result}, indent=1))
    (OUT / "metrics.jsonl").write_text((RUN / "metrics.jsonl").read_text())
    maml = json.loads((ROOT / "results" / "rl" / "navigation2d" / "meta.json").read_text())
    episodes = [result["breakdown"][f"return_after_{e}"] for e in range(len(result["breakdown"]))]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    meta = {"command": "metalab " + " ".join(train), "eval_command": "metalab " + " ".join(evaluation), "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                        "torch": torch.__version__, "threads": 1},
            "commands": ["metalab " + " ".join(train), "metalab " + " ".join(evaluation),
                         "python benchmarks/rl2_navigation.py"],
            "budget": f"{state['step']} PPO iterations (fixed step count), {state['elapsed'] / 60:.1f} min on one thread "
                      "pinned to one core of a shared 2-core machine",
            "steps": state["step"], "training_seconds": state["elapsed"], "test_tasks": TEST_TASKS, "seed": SEED,
            "episode_returns": [e["mean"] for e in episodes], "episode_ci95": [e["ci95"] for e in episodes],
            "policy_std": state["model"]["policy.log_std"].exp().tolist()}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    rows = [f"| RL^2 (metalab), return of episode 1..{len(episodes)} of a trial | "
            + " | ".join(f"{e['mean']:.2f} ± {e['ci95']:.2f}" for e in episodes) + " |" + " |" * (4 - len(episodes))]
    for name in [n for n in maml["returns"] if "metalab" in n] + ["MAML (Finn et al. 2017)"]:
        cis = maml["ci95"].get(name)
        cells = [f"{v:.2f} ± {c:.2f}" if cis else f"{v:.2f}" for v, c in zip(maml["returns"][name], cis or [0] * 4)]
        rows.append(f"| {name}, after 0..3 policy-gradient steps | " + " | ".join(cells) + " |")
    std = ", ".join(f"{v:.2f}" for v in meta["policy_std"])
    first, last = episodes[0], episodes[-1]
    gain = last["mean"] - first["mean"]
    lines = [
        "# RL^2 on 2D navigation (point robot)",
        "",
        "Duan et al. 2016's recurrent policy on Finn et al. 2017's point robot (goals uniform in [-0.5, 0.5]^2,",
        "actions clipped to [-0.1, 0.1], reward minus the L2 distance, horizon 100). A trial is 2 episodes on one",
        "goal; a GRU (64 units) reads (position, previous action, previous reward, done flag) and keeps its hidden",
        "state across the episodes of a trial, so the second episode can use what the first found. Gaussian",
        "actions with a learned state-independent std; PPO (clip 0.2, 4 epochs per meta-batch of 20 goals x 4",
        "trials, GAE 0.99/0.95 over the whole trial, advantages standardised per goal), Adam 0.002, cosine schedule.",
        "",
        f"- Training: `{meta['command']}` ({meta['steps']} PPO iterations, {meta['training_seconds'] / 60:.1f} min, "
        "validation included).",
        f"- Evaluation: `{meta['eval_command']}` (20 trials per goal; `return_after_e` in the JSON is episode e+1).",
        f"- Commit {commit}, {meta['date']}, AMD EPYC, 2 cores shared with other jobs, one thread pinned to one core.",
        "",
        f"Mean return over {TEST_TASKS} fixed test goals (seed {SEED}, the goals of results/rl/navigation2d), ± 95% CI.",
        "The MAML-RL rows are from results/rl/navigation2d. Their columns are policy-gradient steps, each made from",
        "20 trajectories; RL^2's are the episodes of one trial, one trajectory each, so RL^2 sees far less experience.",
        "",
        "| method | 0 steps / episode 1 | 1 step / episode 2 | 2 steps | 3 steps |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Reading",
        "",
        f"The second episode's return minus the first's: {gain:+.2f} (CIs ± {first['ci95']:.2f} / ± {last['ci95']:.2f}).",
        "After this short training the recurrent policy has learnt what a policy pretrained on all goals learns",
        "(head for the middle of the goal square, return near -40, like MAML-RL's and the pretrained policy's",
        "unadapted return) but not yet to use the first episode to find the goal: the second episode is no better.",
        f"Its action std is {std} (initial 1.0). Duan et al. train for far longer; this run is a fixed short",
        "budget on one shared core. Not run here: longer training, more episodes per trial, a smaller initial std.",
        "",
        "Files: `meta.json`, `evaluation.json` (the `eval --json` output), `metrics.jsonl` (training log).",
    ]
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
