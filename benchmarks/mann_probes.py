"""Short fixed-step probes of MANN's training settings on Santoro et al.'s 5-class sequences.

Usage: OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/mann_probes.py --out results/omniglot/mann/probes \
    [--only NAME ...]

Each probe meta-trains MANN (``key_strength=true``, global gradient-norm clip 10, constant
learning rate, 16 sequences per step, seed 0) for a fixed number of steps with the shared loop
and validates every 200 steps on 200 fixed validation sequences (accuracy over all 50 steps).
They compare how soon each setting leaves the chance plateau (loss ln 5, then about 1.55 once
labels not yet shown are guessed). Writes ``<name>_metrics.jsonl`` per probe.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from metalab.training.config import TrainConfig
from metalab.training.loop import train

PROBES = {  # name -> (changes to the base configuration)
    "adam_1e-3": {"lr": 1e-3, "steps": 200},  # the earlier setting (its full curve: the earlier run)
    "adam_1e-3_batch64": {"lr": 1e-3, "meta_batch": 64, "steps": 400},
    "adam_3e-3": {"lr": 3e-3, "steps": 800},
    "rmsprop_1e-4": {"optimizer": "rmsprop", "lr": 1e-4, "steps": 800},
    "adam_5e-3": {"lr": 5e-3, "steps": 800},
}


def config(name: str, runs: Path, data: str | None) -> TrainConfig:
    values = dict(algorithm="mann", dataset="omniglot-sequences", data_dir=data, ways=5, shots=10, queries=1,
                  meta_batch=16, schedule="constant", grad_clip=10.0, val_every=200, val_episodes=200, seed=0,
                  out=str(runs / name), device="cpu", threads=1, learner={"key_strength": True},
                  preprocess={"size": 20})
    values.update(PROBES[name])
    return TrainConfig(**values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/omniglot/mann/probes")
    parser.add_argument("--runs", default="runs/mann_probes")
    parser.add_argument("--data", default=None)
    parser.add_argument("--only", nargs="*", choices=sorted(PROBES), default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out, runs = Path(args.out), Path(args.runs)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.only or PROBES:
        if (runs / name).exists():
            shutil.rmtree(runs / name)
        train(config(name, runs, args.data), progress=False, command=["python", "benchmarks/mann_probes.py"])
        shutil.copy(runs / name / "metrics.jsonl", out / f"{name}_metrics.jsonl")


if __name__ == "__main__":
    main()
