"""MAML-RL on 2D navigation: the action noise's levers at equal meta-iterations.

    OMP_NUM_THREADS=1 python benchmarks/maml_rl_std_probe.py [--steps 50] [--skip-train]

The 250-iteration run of ``benchmarks/maml_rl_navigation.py`` keeps its action std near 0.9,
ten times the 0.1 action clip, and its return stops improving after one step. This trains
three variants for the same ``--steps`` meta-iterations (same seed, same task stream) and
scores each with ``metalab eval --json`` on 40 fixed test goals after 0-3 steps:

- ``paper``: the paper's settings (init std 1, one inner step of 0.1 for every parameter);
- ``low-std``: init std 0.3 with the mean's inner step scaled by the std (0.03: the mean's
  policy gradient grows as 1/std, so the absolute step of the mean stays as in ``paper``) and
  the log-std's step kept at 0.1 (``log_std_lr``; its gradient does not depend on the std);
- ``log-std-step``: init std 1, the mean's step 0.1, a larger log-std step (1.0), so the inner
  step can shrink the noise as it adapts.

Writes results/rl/navigation2d_std/: README.md, results.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "rl" / "navigation2d_std"
VARIANTS = {"paper": (), "low-std": ("--set", "init_std=0.3", "--set", "inner_lr=0.03", "--set", "log_std_lr=0.1"),
            "log-std-step": ("--set", "log_std_lr=1.0")}
TEST_TASKS, SEED = 40, 0


def metalab(*args: str) -> str:
    command = [sys.executable, "-m", "metalab", *args]
    print("$", " ".join(command[2:]), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def main() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from maml_rl_navigation import curve, eval_command, train_command

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, extra in VARIANTS.items():
        run = ROOT / "runs" / f"maml_rl_std_{name}"
        command = train_command(args.steps, "navigation2d", run, extra)
        if not args.skip_train:
            metalab(*command)
        evaluation = eval_command(run)
        evaluation[evaluation.index("--episodes") + 1] = str(TEST_TASKS)
        result = json.loads(metalab(*evaluation))
        state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
        means, cis = curve(result)
        rows[name] = {"command": "metalab " + " ".join(command), "eval_command": "metalab " + " ".join(evaluation),
                      "returns": means, "ci95": cis, "evaluation": result, "meta_iterations": state["step"],
                      "training_seconds": state["elapsed"],
                      "policy_std": state["model"]["policy.log_std"].exp().flatten().tolist()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
            "steps": args.steps, "test_tasks": TEST_TASKS, "seed": SEED, "rows": rows}
    (OUT / "results.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps({k: (v["returns"], v["ci95"], v["policy_std"]) for k, v in rows.items()}, indent=1))


if __name__ == "__main__":
    main()
