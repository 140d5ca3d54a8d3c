"""How a trained MANN uses its memory on Santoro et al.'s 5-class Omniglot sequences.

Usage: OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/mann_memory_use.py CHECKPOINT [CHECKPOINT ...] \
    --out results/omniglot/mann/variants/memory_use.json [--episodes 200]

On fixed validation sequences (seed 0) it runs the checkpoint step by step and measures:

- ``read``: per head, the read weights' entropy (nats; uniform over 128 slots is 4.85) and
  largest weight, the key strength ``beta`` (1 without ``key_strength``), and the write gate
  ``sigmoid(alpha)`` (share written into last step's read location, Eq. 7);
- ``accuracy``: by presentation (mean and 95% CI over the sequences) as trained; with the read
  vectors zeroed in the output layer only; and zeroed everywhere (output and the controller's
  next input), i.e. how much the answer relies on what memory returns; and (with
  ``key_strength``) with every ``beta`` multiplied by 0.5, 2 or 4 at test time (do sharper reads
  help the trained model?); and with the reads giving no weight to the least-used slots written
  at the same step (``reads_skip_own_step_slots``: does reading one's own key cost accuracy?);
- ``retrieval``: at the 2nd..10th presentation of a class, the read mass (mean over heads) on
  the slots written at the class's previous presentation (``prev``), at the step after it, where
  its label arrived (``prev+1``), at its first presentation (``first``), at this very step
  (``self``: the read follows the write, Eqs. 2-8, so each key finds its own copy), and as a
  control on the slots written at the latest earlier step of another class (``other``); also
  ``self`` and ``prev`` per head, and the share a uniform read would put on one step's slots;
  a step's slots are those receiving write weight >= 0.25 (summed over heads);
- ``slots``: distinct slots written per sequence, slot writes per step, and how often the main
  slot of a presentation (its largest summed write weight) is zeroed or receives a least-used
  write of another key before the class returns.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F

from metalab.algorithms.memory import mann as mann_module
from metalab.algorithms.memory.mann import cosine_similarity, least_used_per_head
from metalab.data.preprocess import Preprocess
from metalab.evaluation.evaluate import mean_ci95
from metalab.tasks.family import TaskShape
from metalab.tasks.registry import load_tasks
from metalab.tasks.sequences import instance_accuracy, instance_numbers
from metalab.tasks.stream import fixed_tasks
from metalab.training.checkpoint import load_learner

SHAPE = TaskShape(5, 10, 1)
THRESHOLD = 0.25


@torch.no_grad()
def trace(learner, x: torch.Tensor, y: torch.Tensor, zero_reads: str = "", skip_own: bool = False
          ) -> dict[str, torch.Tensor]:
    """Run ``[B, L, ...]`` sequences step by step; per step logits, read/write weights, gates,
    erased and fresh (least-used) slots. ``zero_reads``: "" (as trained), "output" (reads zeroed
    in the output layer), "all" (also in the controller's input). ``skip_own``: the reads give no
    weight to the least-used slots written at the same step (a test-time probe of self-matches)."""
    cfg = learner.config
    batch, length = y.shape
    state = learner.initial_state(batch, x)
    labels = F.one_hot(y, cfg.outputs).to(x.dtype)
    rows = {k: [] for k in ("logits", "read_w", "write_w", "gate", "strength", "erase", "fresh")}
    for t in range(length):
        if zero_reads == "all":
            state = dataclasses.replace(state, reads=torch.zeros_like(state.reads))
        if cfg.distinct_slots:
            fresh = least_used_per_head(state.usage, cfg.heads).sum(1)
            erase = fresh
        else:
            fresh = state.least_used
            erase = F.one_hot(state.usage.argmin(-1), cfg.slots).to(x.dtype)
        if skip_own:
            def similarity(keys, memory, _fresh=fresh):  # -1000 on this step's least-used slots
                return cosine_similarity(keys, memory) - 1e3 * _fresh.unsqueeze(1)

            with mock.patch.object(mann_module, "cosine_similarity", similarity):
                logits, state = learner.step(state, x[:, t])
        else:
            logits, state = learner.step(state, x[:, t])
        if zero_reads:
            logits = learner.out(torch.cat([state.h, torch.zeros_like(state.reads)], 1))
        rows["logits"].append(logits)
        rows["read_w"].append(state.read_w)
        rows["write_w"].append(state.write_w)
        rows["gate"].append(torch.sigmoid(learner.gates(state.h)))
        rows["strength"].append(1 + F.softplus(learner.strengths(state.h)) if learner.strengths is not None
                                else torch.ones_like(rows["gate"][-1]))
        rows["erase"].append(erase)
        rows["fresh"].append(fresh)
        state = dataclasses.replace(state, label=labels[:, t])
    return {k: torch.stack(v, 1) for k, v in rows.items()}


class ScaledStrength(torch.nn.Module):
    """The learner's strength layer with ``beta`` multiplied by ``factor`` (a test-time probe)."""

    def __init__(self, layer: torch.nn.Module, factor: float) -> None:
        super().__init__()
        self.layer, self.factor = layer, factor

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        beta = self.factor * (1 + F.softplus(self.layer(h)))  # then 1 + softplus(out) = beta
        return torch.log(torch.expm1((beta - 1).clamp_min(1e-6)))


def by_instance(logits: torch.Tensor, y: torch.Tensor) -> list[list[float]]:
    """Accuracy (%) on the 1st..10th presentation: [mean, 95% CI over sequences] each."""
    table = instance_accuracy(logits, y, SHAPE.shots) * 100  # every class appears 10 times: no NaN
    return [[round(v, 2) for v in mean_ci95(table[:, i])] for i in range(SHAPE.shots)]


def measure(path: Path, episodes: int, data: str | None) -> dict:
    learner, _, state = load_learner(path)
    learner.eval()
    val = load_tasks("omniglot-sequences", "val", data_dir=data, preprocess=Preprocess(size=20))
    xs, ys = [], []
    for batch in fixed_tasks(val, SHAPE, seed=0, count=episodes, batch=50):
        xs.append(batch.query_x)
        ys.append(batch.query_y)
    x, y = torch.cat(xs), torch.cat(ys)
    run = trace(learner, x, y)
    accuracy = {"as_trained": by_instance(run["logits"], y),
                "reads_zeroed_in_output": by_instance(trace(learner, x, y, "output")["logits"], y),
                "reads_zeroed_everywhere": by_instance(trace(learner, x, y, "all")["logits"], y)}
    accuracy["reads_skip_own_step_slots"] = by_instance(trace(learner, x, y, skip_own=True)["logits"], y)
    if learner.strengths is not None:  # does a trained model gain from sharper (or softer) reads?
        layer = learner.strengths
        for factor in (0.5, 2.0, 4.0):
            learner.strengths = ScaledStrength(layer, factor)
            accuracy[f"key_strength_times_{factor:g}"] = by_instance(trace(learner, x, y)["logits"], y)
        learner.strengths = layer
    read_w, write_w = run["read_w"], run["write_w"]  # [B, L, H, S]
    entropy = -(read_w * read_w.clamp_min(1e-12).log()).sum(-1)  # [B, L, H]
    read = {"entropy_per_head": [round(float(v), 3) for v in entropy.mean((0, 1))],
            "max_weight_per_head": [round(float(v), 3) for v in read_w.amax(-1).mean((0, 1))],
            "write_gate_per_head": [round(float(v), 3) for v in run["gate"].mean((0, 1))],
            "key_strength_per_head": [round(float(v), 2) for v in run["strength"].mean((0, 1))]}
    written = write_w.sum(2) >= THRESHOLD  # [B, L, S]: the slots each step writes
    mass = read_w.mean(2)  # [B, L, S]: read weight, mean over heads
    numbers = instance_numbers(y)
    sums = {k: [] for k in ("prev", "prev+1", "first", "self", "other")}
    per_head = {"self": [], "prev": []}  # [H] each
    zeroed, rewritten, returns = 0, 0, 0
    main_slot = write_w.sum(2).argmax(-1)  # [B, L]
    for b in range(len(y)):
        for t in range(1, y.shape[1]):
            if numbers[b, t] < 2:
                continue
            same = (y[b, :t] == y[b, t]).nonzero().flatten()
            prev, first = int(same[-1]), int(same[0])
            others = (y[b, :t] != y[b, t]).nonzero().flatten()
            own = written[b, t]
            def on(slots):
                return float((mass[b, t] * (slots & ~own)).sum())
            sums["prev"].append(on(written[b, prev]))
            sums["prev+1"].append(on(written[b, prev + 1]) if prev + 1 < t else float("nan"))
            sums["first"].append(on(written[b, first]))
            sums["self"].append(float((mass[b, t] * own).sum()))
            per_head["self"].append((read_w[b, t] * own).sum(-1))
            per_head["prev"].append((read_w[b, t] * (written[b, prev] & ~own)).sum(-1))
            sums["other"].append(on(written[b, int(others[-1])]) if len(others) else float("nan"))
            slot = int(main_slot[b, prev])
            returns += 1
            between = slice(prev + 1, t + 1)  # steps whose writes happen before this step's read
            zeroed += bool(run["erase"][b, between, slot].any())
            rewritten += bool((run["fresh"][b, between, slot] > 0).any())
    retrieval = {k: round(float(torch.tensor(v).nanmean()), 4) for k, v in sums.items()}
    retrieval.update({f"{k}_per_head": [round(float(x), 4) for x in torch.stack(v).mean(0)]
                      for k, v in per_head.items()})
    retrieval["uniform_share_of_prev_slots"] = round(float(written.sum(-1).double().mean()) / learner.config.slots, 4)
    slots = {"distinct_written_per_sequence": round(float(written.any(1).sum(-1).double().mean()), 2),
             "slots_written_per_step": round(float(written.sum(-1).double().mean()), 2),
             "main_slot_zeroed_before_return": round(zeroed / max(1, returns), 4),
             "main_slot_got_least_used_write_before_return": round(rewritten / max(1, returns), 4),
             "returns": returns}
    return {"checkpoint": str(path), "step": state["step"], "learner": dataclasses.asdict(learner.config),
            "episodes": episodes, "seed": 0, "accuracy_by_instance": accuracy, "read": read,
            "retrieval_read_mass": retrieval, "slots": slots}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/omniglot/mann/variants/memory_use.json"))
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [measure(path, args.episodes, args.data) for path in args.checkpoints]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
