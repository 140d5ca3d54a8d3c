"""The headline figures of ``results/index.json``, recomputed from their raw files.

Every entry of the index names its raw files, the function here that computes it from them
(``function`` and ``args``) and the value it reports (rounded to ``decimals``). ``check``
recomputes every entry and lists those that differ; ``build`` writes the index from the
list of headline figures (``results_headlines.py``), so a new raw file or a changed report
shows up as a diff.

    python benchmarks/results_index.py check            # exit status 1 on any mismatch
    python benchmarks/results_index.py build            # rewrite results/index.json

The AutoML figures use the report's own functions (``automl_logo_report.py``: the same row
replacement, split-seed averaging, tie rule and Wilcoxon test as ``automl_logo.py report``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
INDEX = ROOT / "results" / "index.json"


# ---------------------------------------------------------------- computing functions


def eval_json(file: str, metric: str) -> dict[str, float]:
    """A ``metalab eval --json`` output: the mean of ``metric`` (accuracy in %, or query MSE)
    over the fixed test episodes and its 95% CI (1.96 std / sqrt(episodes))."""
    result = json.loads((ROOT / file).read_text(encoding="utf-8"))
    return {"value": result[metric], "ci95": result["ci95"]}


@functools.lru_cache(maxsize=None)
def _automl_table(files: tuple[str, ...], methods: tuple[str, ...]) -> Any:
    from automl_logo_report import load_rows, ranks, score_failed_at_chance

    rows = load_rows([str(ROOT / f) for f in files])
    rows = rows[rows["method"].isin(methods)].reset_index(drop=True)
    return ranks(score_failed_at_chance(rows, None))


def automl_method(files: list[str], budget: float, method: str, stat: str,
                  methods: list[str] | None = None) -> dict[str, float]:
    """Mean rank (``stat="rank"``) or mean test balanced accuracy (``"score"``) of one method
    at one budget, as ``automl_logo.py report`` prints them for these row files."""
    from automl_logo import METHODS
    from automl_logo_report import method_summary

    table = _automl_table(tuple(files), tuple(methods or METHODS))
    summary = method_summary(table[table["budget"] == budget])
    return {"value": float(summary.loc[method, stat]), "ci95": None}


def automl_warm_vs_cold(files: list[str], budget: float, stat: str, warm: str = "warm",
                        methods: list[str] | None = None) -> dict[str, float]:
    """(a) against (b) at one budget: ``wins``, ``ties``, ``losses`` (datasets), ``strict``
    (share of strict wins, %) or ``p`` (one-sided Wilcoxon signed-rank of (a) > (b))."""
    from automl_logo import METHODS
    from automl_logo_report import warm_cold_counts

    table = _automl_table(tuple(files), tuple(methods or METHODS))
    part = table[table["budget"] == budget]
    wide = part.pivot(index="dataset", columns="method", values="score")
    counts = warm_cold_counts(wide, warm)
    value = 100 * counts["wins"] / len(wide) if stat == "strict" else counts[stat]
    return {"value": float(value), "ci95": None}


def validation(file: str, step: int, metric: str) -> dict[str, float]:
    """The validation figure (``val_<metric>`` and its 95% CI) a training run logged at
    ``step`` in its ``metrics.jsonl`` (``metalab train --val-every``)."""
    for line in (ROOT / file).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("step") == step and f"val_{metric}" in record:
            return {"value": record[f"val_{metric}"], "ci95": record["val_ci95"]}
    raise KeyError(f"{file} has no validation {metric} at step {step}")


def l2o_final(file: str, optimizer: str, steps: int) -> dict[str, float]:
    """Mean objective (and 95% CI) over the held-out problems after ``steps`` steps, as
    ``benchmarks/l2o_optimizers.py`` wrote it from the per-problem curves."""
    entry = json.loads((ROOT / file).read_text(encoding="utf-8"))["optimizers"][optimizer]
    final = entry[f"final_{steps}"]
    return {"value": final["mean"], "ci95": final["ci95"]}


def speed_ratio(file: str, variant: str) -> dict[str, float]:
    """After over before: the median of the timed rounds after a change over the median
    before (``benchmarks/maml_speed_commits.py``), recomputed from the rounds."""
    from statistics import median

    rounds = json.loads((ROOT / file).read_text(encoding="utf-8"))[variant]["rounds"]
    return {"value": median(rounds["after"]) / median(rounds["before"]), "ci95": None}


def rule_cost(file: str, key: str) -> dict[str, float]:
    """``benchmarks/metalstm_rule_speed.py``'s ``speed.json``: the rule's seconds (``key``:
    ``rule_eager_s`` or ``rule_compiled_s``) over the MAML task step's, recomputed."""
    timings = json.loads((ROOT / file).read_text(encoding="utf-8"))
    return {"value": timings[key] / timings["maml_task_step_s"], "ci95": None}


def rl_return(file: str, run: str, steps: int) -> dict[str, float]:
    """Mean return (and 95% CI) over the test goals after ``steps`` policy-gradient steps, as
    ``benchmarks/maml_rl_navigation.py`` reads it from the ``eval --json`` rows it saved."""
    from maml_rl_navigation import return_after

    result = json.loads((ROOT / file).read_text(encoding="utf-8"))[run]
    mean, ci = return_after(result, steps)
    return {"value": mean, "ci95": ci}


def cheetah_return(file: str, run: str, direction: str, steps: int) -> dict[str, float]:
    """Mean return (and 95% CI) after ``steps`` policy-gradient steps over the test tasks of one
    ``direction`` (``forward``, ``backward`` or ``all``), from ``benchmarks/maml_rl_cheetah.py``'s rows."""
    from maml_rl_cheetah import mean_ci

    rows = json.loads((ROOT / file).read_text(encoding="utf-8"))[run]
    tasks = rows["forward"] + rows["backward"] if direction == "all" else rows[direction]
    mean, ci = mean_ci([r[steps] for r in tasks])
    return {"value": mean, "ci95": ci}


def mann_instance(file: str, learner: str, instance: str) -> dict[str, float]:
    """Accuracy (%) on the ``instance``-th presentation of a class (and its 95% CI), as
    ``benchmarks/mann_omniglot.py`` plots it from its ``results.json``."""
    from mann_omniglot import instance_figure

    mean, ci = instance_figure(json.loads((ROOT / file).read_text(encoding="utf-8")), learner, instance)
    return {"value": mean, "ci95": ci}


def mann_standard(file: str, setting: str) -> dict[str, float]:
    """MANN under the one interface on standard fixed episodes (``setting``, e.g. "5-way 1-shot"):
    the ``metalab.evaluation.evaluate`` result ``benchmarks/mann_omniglot.py`` saved."""
    result = json.loads((ROOT / file).read_text(encoding="utf-8"))["mann"]["standard_episodes"][setting]
    return {"value": result["accuracy"], "ci95": result["ci95"]}


def compare_json(file: str, run: str | None = None, pair: int | None = None) -> dict[str, float]:
    """A ``metalab compare --json`` output: one run's mean (``run``) or one pair's mean paired
    difference (``pair``, first minus second), each with its 95% CI."""
    result = json.loads((ROOT / file).read_text(encoding="utf-8"))
    if pair is not None:
        row = result["pairs"][pair]
        return {"value": row["difference"], "ci95": row["ci95"]}
    row = next(r for r in result["runs"] if r["run"] == run)
    return {"value": row[result["metric"]], "ci95": row["ci95"]}


def learn2learn_speedup(file: str, stat: str = "ratio") -> dict[str, float]:
    """learn2learn's seconds per MAML meta-step over metalab's: the median of the rounds'
    ratios (``benchmarks/maml_speed_learn2learn.py``), or either side's median seconds."""
    from statistics import median

    from maml_speed_learn2learn import speedup

    rounds = json.loads((ROOT / file).read_text(encoding="utf-8"))["rounds"]
    if stat == "ratio":
        return {"value": speedup(rounds), "ci95": None}
    key = {"metalab": ("metalab", "seconds"), "learn2learn": ("learn2learn", "learn2learn_maml_s")}[stat]
    return {"value": median(r[key[0]][key[1]] for r in rounds), "ci95": None}


def sampling_share(file: str, ways: int) -> dict[str, float]:
    """Episode sampling's share (%) of a ProtoNet training step for the task shape with ``ways``,
    the median sampling time over the median step time ``benchmarks/sampling_speed.py`` reported."""
    row = next(r for r in json.loads((ROOT / file).read_text(encoding="utf-8"))["rows"] if r["ways"] == ways)
    return {"value": row["sample_share_percent"], "ci95": None}


def bandit_score(file: str, setting: str, strategy: str, minus: str | None = None) -> dict[str, float]:
    """A strategy's mean total reward per trial on the fixed bandit tasks of ``setting`` (e.g.
    ``k5_n10``), or with ``minus`` its mean paired difference from another strategy on the same
    tasks, each with its 95% CI, recomputed from the per-task scores ``benchmarks/bandits.py`` saved."""
    from bandits import paired

    row = json.loads((ROOT / file).read_text(encoding="utf-8"))["rows"][setting]
    scores = row[strategy]["scores"]
    if minus is not None:
        mean, ci = paired(scores, row[minus]["scores"])
        return {"value": mean, "ci95": ci}
    mean, ci = paired(scores, [0.0] * len(scores))  # a difference from zero: the mean and its CI
    return {"value": mean, "ci95": ci}


FUNCTIONS: dict[str, Callable[..., dict[str, float]]] = {
    f.__name__: f for f in (eval_json, validation, automl_method, automl_warm_vs_cold, l2o_final, speed_ratio,
                            rl_return, cheetah_return, mann_instance, mann_standard, compare_json, learn2learn_speedup,
                            sampling_share, bandit_score, rule_cost)}


def compute(entry: dict[str, Any]) -> dict[str, float]:
    """The value (and CI) of one index entry, recomputed from its raw files."""
    return FUNCTIONS[entry["function"]](**entry["args"])


def _rounded(value: float | None, places: int) -> float | int | None:
    if value is None:
        return None
    return round(value, places) if places else int(round(value))


def mismatches(index: dict[str, Any]) -> list[str]:
    """Entries whose recomputed value or CI, rounded to the entry's decimals, differs."""
    wrong = []
    for entry in index["figures"]:
        got, places = compute(entry), entry["decimals"]
        for key in ("value", "ci95"):
            want = entry.get(key)
            have = _rounded(got[key], places)
            if want != have:
                wrong.append(f"{entry['id']}: {key} {want} in the index, {have} from {entry['sources']}")
    return wrong


def build() -> dict[str, Any]:
    """The index: every headline figure with its value recomputed now."""
    from results_headlines import headline_entries

    figures = headline_entries()
    for entry in figures:
        got = compute(entry)
        entry["value"] = _rounded(got["value"], entry["decimals"])
        entry["ci95"] = _rounded(got["ci95"], entry["decimals"])
        args = entry["args"]
        entry["sources"] = args["files"] if "files" in args else [args["file"]]
        entry["computed_by"] = f"benchmarks/results_index.py:{entry['function']}"
    ordered = [{k: e.get(k) for k in ("id", "area", "experiment", "what", "value", "ci95", "decimals", "paper",
                                      "sources", "computed_by", "function", "args")} for e in figures]
    return {"format": "metalab-results-index", "version": 1,
            "about": "Every headline figure of results/, with its raw files and the function of "
                     "benchmarks/results_index.py that recomputes it (value and ci95 rounded to decimals; "
                     "ci95 is the 95% confidence interval, null where the figure has none).",
            "figures": ordered}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "build"])
    parser.add_argument("--index", default=str(INDEX))
    args = parser.parse_args(argv)
    if args.command == "build":
        index = build()
        Path(args.index).write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(index['figures'])} figures to {args.index}")
        return 0
    wrong = mismatches(json.loads(Path(args.index).read_text(encoding="utf-8")))
    print("\n".join(wrong) if wrong else "every figure of the index is reproduced from its raw file")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
