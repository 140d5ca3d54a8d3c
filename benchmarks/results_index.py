"""The headline figures of ``results/index.json``, recomputed from their raw files.

Every entry of the index names its raw files, the function here that computes it from them
(``function`` and ``args``) and the value it reports (rounded to ``decimals``). ``check``
recomputes every entry and lists those that differ; ``build`` writes the index from the
list of headline figures below, so a new raw file or a changed report shows up as a diff.

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


FUNCTIONS: dict[str, Callable[..., dict[str, float]]] = {
    f.__name__: f for f in (eval_json, validation, automl_method, automl_warm_vs_cold, l2o_final, speed_ratio)}


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


# ---------------------------------------------------------------- the headline figures

AUTOML = "results/automl"
PORTFOLIO_FILES = [  # the order of the portfolio experiment's report command (later rows replace earlier)
    f"{AUTOML}/nearest_2026-12-01/logo_10s_shard0.jsonl", f"{AUTOML}/nearest_2026-12-01/logo_10s_shard1.jsonl",
    f"{AUTOML}/explore_after_warmstart_2026-12-01/logo_30s_shard0.jsonl",
    f"{AUTOML}/explore_after_warmstart_2026-12-01/logo_30s_shard1.jsonl",
    *[f"{AUTOML}/portfolio_2026-12-02/logo_{part}_shard{k}.jsonl"
      for part in ("split0_10s", "split0_30s", "split0_60s", "splits12_10s", "splits34_10s") for k in (0, 1)],
]
AUTOML_LABELS = {"warm": "(a) warm start (portfolio) + ensemble", "cold": "(b) cold start + ensemble",
                 "random": "(c) random search + ensemble", "flaml": "(d) FLAML zero-shot",
                 "sklearn": "(e) sklearn defaults"}


def _omniglot_entries() -> list[dict[str, Any]]:
    from metalab.evaluation.paper import paper_figure

    entries = []
    for file in sorted((ROOT / "results" / "omniglot").glob("*/eval_*.json")):
        result = json.loads(file.read_text(encoding="utf-8"))
        model, setting = file.parent.name, file.stem.removeprefix("eval_")
        paper = paper_figure(result["algorithm"], "omniglot", result["ways"], result["shots"])
        entries.append({
            "id": f"omniglot/{model}/{setting}", "area": "omniglot", "experiment": f"omniglot/{model}",
            "what": f"{result['algorithm']} ({model} model), {result['ways']}-way {result['shots']}-shot test "
                    f"accuracy (%), {result['episodes']} fixed episodes",
            "paper": {"value": paper[0], "source": paper[1]} if paper else None,
            "function": "eval_json", "args": {"file": str(file.relative_to(ROOT)), "metric": "accuracy"},
            "decimals": 2})
    return entries


def _sinusoid_entries() -> list[dict[str, Any]]:
    from metalab.evaluation.paper import paper_figure

    entries = []
    for algorithm in ("maml", "metasgd"):
        for shots in (5, 10, 20):
            file = f"results/sinusoid/maml_metasgd/{algorithm}_{shots}shot.json"
            paper = paper_figure(algorithm, "sinusoid", None, shots)
            entries.append({
                "id": f"sinusoid/{algorithm}/{shots}shot", "area": "sinusoid", "experiment": "sinusoid/maml_metasgd",
                "what": f"{algorithm} {shots}-shot sinusoid query MSE, 600 fixed test tasks",
                "paper": {"value": paper[0], "source": paper[1]} if paper else None,
                "function": "eval_json", "args": {"file": file, "metric": "mse"}, "decimals": 3})
            metrics = f"results/sinusoid/maml_metasgd/{algorithm}_{shots}shot_metrics.jsonl"
            for step in (0, 2000, 4000, 6000, 8000):
                entries.append({
                    "id": f"sinusoid/{algorithm}/{shots}shot/validation/{step}", "area": "sinusoid",
                    "experiment": "sinusoid/maml_metasgd",
                    "what": f"{algorithm} {shots}-shot validation query MSE at step {step}, 200 fixed tasks",
                    "function": "validation", "args": {"file": metrics, "step": step, "metric": "mse"},
                    "decimals": 2})
    return entries


def _automl_entries() -> list[dict[str, Any]]:
    entries = []
    for budget in (10, 30, 60):
        for method, label in AUTOML_LABELS.items():
            for stat, decimals, what in (("rank", 2, "mean rank among the five"),
                                         ("score", 4, "mean test balanced accuracy")):
                entries.append({
                    "id": f"automl/portfolio/{budget}s/{method}/{stat}", "area": "automl",
                    "experiment": "automl/portfolio_2026-12-02",
                    "what": f"{label} at {budget} s per dataset: {what}, 95 KEEL datasets "
                            f"({'five split seeds' if budget == 10 else 'split seed 0'})",
                    "function": "automl_method",
                    "args": {"files": PORTFOLIO_FILES, "budget": budget, "method": method, "stat": stat},
                    "decimals": decimals})
        for stat, decimals in (("wins", 0), ("ties", 0), ("losses", 0), ("strict", 0), ("p", 4)):
            entries.append({
                "id": f"automl/portfolio/{budget}s/warm_vs_cold/{stat}", "area": "automl",
                "experiment": "automl/portfolio_2026-12-02",
                "what": f"(a) vs (b) at {budget} s: " + {"wins": "datasets won", "ties": "datasets tied",
                                                         "losses": "datasets lost", "strict": "strict wins (%)",
                                                         "p": "one-sided Wilcoxon p of (a) > (b)"}[stat],
                "function": "automl_warm_vs_cold", "args": {"files": PORTFOLIO_FILES, "budget": budget, "stat": stat},
                "decimals": decimals})
    return entries


def _other_entries() -> list[dict[str, Any]]:
    entries = []
    for optimizer in ("learned (LSTM)", "Adam", "NAG", "RMSprop", "SGD"):
        for steps in (100, 200):
            entries.append({
                "id": f"l2o/quadratics/{optimizer.split(' ')[0].lower()}/{steps}", "area": "l2o",
                "experiment": "l2o/quadratics",
                "what": f"{optimizer}: mean objective after {steps} steps, 600 held-out 10-d quadratics",
                "function": "l2o_final", "args": {"file": "results/l2o/quadratics/curves.json",
                                                  "optimizer": optimizer, "steps": steps},
                "decimals": 3})
    for variant in ("metalab_maml", "metalab_fomaml"):
        entries.append({
            "id": f"speed/maml_task_families/{variant}", "area": "speed", "experiment": "speed/maml_task_families",
            "what": f"{variant} meta-step time after task families over before (median of 5 rounds)",
            "function": "speed_ratio", "args": {"file": "results/speed/maml_task_families/speed.json",
                                                "variant": variant},
            "decimals": 3})
    return entries


def build() -> dict[str, Any]:
    """The index: every headline figure with its value recomputed now."""
    figures = _omniglot_entries() + _sinusoid_entries() + _automl_entries() + _other_entries()
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
