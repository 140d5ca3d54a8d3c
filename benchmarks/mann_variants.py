"""Fixed-step probes of MANN memory variants on Santoro et al.'s 5-class Omniglot sequences.

Usage: OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/mann_variants.py --out results/omniglot/mann/variants \
    --only current [--steps 2000]

Every probe trains MANN with the main run's settings (Adam 5e-3 decayed to zero by a cosine over
``--steps`` steps, global gradient-norm clip 10, 16 sequences per step, seed 0 or ``--seed``, ``key_strength``
unless the variant says otherwise) and only the variant's MANN options changed, so that the
probes differ in the model alone. Every 250 steps (and at the end) it validates on 100 fixed
validation sequences and records the accuracy on the 1st..10th presentation of a class.
Writes ``<name>_metrics.jsonl`` (the loop's log) and ``<name>_by_instance.json`` (per validation:
step and accuracy (%) by presentation); the run folder keeps ``last.pt`` for
``benchmarks/mann_memory_use.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from metalab.data.preprocess import Preprocess
from metalab.tasks.registry import load_tasks
from metalab.tasks.sequences import OmniglotSequences, instance_accuracy
from metalab.training.config import TrainConfig
from metalab.training.loop import train

VARIANTS = {  # name -> MANN options on top of {"key_strength": True}
    "current": {},
    "one_head": {"heads": 1},  # one read head, so one least-used slot per step, zeroed before the write
    "distinct_slots": {"distinct_slots": True},  # 4 heads, each into a least-used slot of its own
    "strength10": {"initial_strength": 10.0},  # key strength starting at 10 instead of about 1.7: sharp reads
    "distinct_strength10": {"distinct_slots": True, "initial_strength": 10.0},
    "no_strength": {"key_strength": False},  # Santoro et al.'s Eq. 2-3 as written: softmax of plain cosines
    # reads address the memory before the step's own write: a key cannot find its own copy
    "read_before_write": {"read_before_write": True},
    "read_before_write_strength10": {"read_before_write": True, "initial_strength": 10.0},
}


class RecordingSequences(OmniglotSequences):
    """The validation sequences, also keeping each validation's accuracy by presentation."""

    def __init__(self, family: OmniglotSequences, episodes: int) -> None:
        super().__init__(family.dataset, source=family.source, details=family.details, affine=family.affine)
        self.episodes = episodes  # sequences per validation
        self.rows: list[torch.Tensor] = []
        self.validations: list[list[float]] = []

    def task_scores(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.rows.append(instance_accuracy(outputs, targets, 10))
        if sum(len(r) for r in self.rows) == self.episodes:  # one validation done: its means (%)
            self.validations.append([round(float(v) * 100, 2) for v in torch.cat(self.rows).nanmean(0)])
            self.rows = []
        return super().task_scores(outputs, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/omniglot/mann/variants")
    parser.add_argument("--runs", default="runs/mann_variants")
    parser.add_argument("--data", default=None)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="training seed (other than 0: added to the names)")
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out, runs = Path(args.out), Path(args.runs)
    out.mkdir(parents=True, exist_ok=True)
    preprocess = Preprocess(size=20)
    train_tasks = load_tasks("omniglot-sequences", "train", data_dir=args.data, preprocess=preprocess)
    for variant in args.only or VARIANTS:
        name = variant if args.seed == 0 else f"{variant}_seed{args.seed}"
        val_tasks = load_tasks("omniglot-sequences", "val", data_dir=args.data, preprocess=preprocess)
        val = RecordingSequences(val_tasks, 100)
        folder = runs / name
        if folder.exists():
            shutil.rmtree(folder)
        learner = {"key_strength": True, **VARIANTS[variant]}
        config = TrainConfig(
            algorithm="mann", dataset="omniglot-sequences", data_dir=args.data, ways=5, shots=10, queries=1,
            meta_batch=16, steps=args.steps, optimizer="adam", lr=5e-3, schedule="cosine", grad_clip=10.0,
            val_every=250, val_episodes=100, seed=args.seed, out=str(folder), device="cpu", threads=1,
            learner=learner, preprocess={"size": 20},
        )
        clock = time.time()
        train(config, progress=False, tasks=(train_tasks, val), command=["python", "benchmarks/mann_variants.py"])
        steps = [0, *range(250, args.steps, 250), args.steps][: len(val.validations)]
        record = {"variant": variant, "seed": args.seed, "learner": learner, "steps": args.steps,
                  "wall_seconds": round(time.time() - clock, 1),
                  "instances": list(range(1, 11)),
                  "validation": [{"step": s, "by_instance": v} for s, v in zip(steps, val.validations)]}
        (out / f"{name}_by_instance.json").write_text(json.dumps(record, indent=1))
        shutil.copy(folder / "metrics.jsonl", out / f"{name}_metrics.jsonl")
        print(name, record["validation"][-1], flush=True)


if __name__ == "__main__":
    main()
