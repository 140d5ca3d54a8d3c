"""The report of ``automl_peers.py``: metalab against FLAML, AutoGluon and HistGradientBoosting.

Per budget, over the datasets every system ran (test scores averaged over the outer split
seeds every system ran, as ``automl_logo_report.ranks`` does; HistGradientBoosting, which has
no budget, is ranked at each budget):

- mean rank (1 = best, ties averaged) and mean test balanced accuracy;
- mean normalised balanced error (auto-sklearn 2.0's convention, Feurer et al. 2022, Sec. 6):
  per dataset, (BER - min BER) / (max BER - min BER) over the systems compared, 0 where all
  tie, with BER = 1 - balanced accuracy;
- wins/ties/losses of the reference system (metalab warm-started) against each other;
- the Friedman test over all systems, and the two-sided Wilcoxon signed-rank test of the
  reference against each other system, Holm-corrected over those comparisons (Holm 1979);
- the 95th percentile of wall time / budget and the failure rate, per system;
- metalab warm-started against cold-started: trials, cross-validated and test differences
  (where the warm start's edge goes as the budget grows), and how much of the difference in
  normalised balanced error comes from near ties (all systems within 0.01);
- with a KEEL folder (``--keel-root`` or ``$METALAB_KEEL``), the same tables per kind of
  dataset in its manifest (balanced, imbalanced).

A failed run (``failed: true``, or a row without a score) counts as balanced accuracy 0.5.

    python benchmarks/automl_peers_report.py RUNS.jsonl [MORE.jsonl ...] --md table.md \\
        --plot-wall wall.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from automl_logo_report import load_rows, method_summary, ranks  # noqa: E402
from automl_peers import BUDGET_FREE, FAILED_SCORE, LABELS, SYSTEMS  # noqa: E402


def score_failures(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with a failed run (``failed`` true, or no test score) scored :data:`FAILED_SCORE`."""
    rows = rows.copy()
    failed = rows["test_balanced_accuracy"].isna()
    if "failed" in rows:
        failed |= rows["failed"].eq(True)
    rows["failed"] = failed
    rows.loc[failed, "test_balanced_accuracy"] = FAILED_SCORE
    return rows


def normalised_balanced_error(wide: pd.DataFrame) -> pd.DataFrame:
    """Per dataset (row) and system (column) of test balanced accuracies: (BER - min BER) /
    (max BER - min BER) over the row, 0 for every system where all tie."""
    error = 1.0 - wide
    low, high = error.min(axis=1), error.max(axis=1)
    span = (high - low).where(high > low, np.inf)
    return error.sub(low, axis=0).div(span, axis=0)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment of a family of p-values (NaN ones are left out of the
    family and stay NaN): the k-th smallest of m times (m - k + 1), made monotone, capped at 1."""
    tested = sorted((p, name) for name, p in pvalues.items() if not np.isnan(p))
    adjusted = {name: float("nan") for name in pvalues}
    running = 0.0
    for k, (p, name) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - k) * p))
        adjusted[name] = running
    return adjusted


def comparisons(wide: pd.DataFrame, reference: str = "warm") -> pd.DataFrame:
    """``reference`` against each other system of ``wide``: wins, ties, losses, the mean
    difference of balanced accuracy, the two-sided Wilcoxon signed-rank p-value (ties
    dropped; NaN when every dataset ties) and its Holm-corrected value."""
    from scipy.stats import wilcoxon

    table = {}
    for other in [s for s in wide.columns if s != reference]:
        diff = wide[reference] - wide[other]
        p = float(wilcoxon(diff[diff != 0]).pvalue) if (diff != 0).sum() else float("nan")
        table[other] = {"wins": int((diff > 0).sum()), "ties": int((diff == 0).sum()),
                        "losses": int((diff < 0).sum()), "mean_diff": float(diff.mean()), "p": p}
    frame = pd.DataFrame(table).T
    if len(frame):
        frame["p_holm"] = pd.Series(holm(frame["p"].astype(float).to_dict()))
    return frame


def friedman(wide: pd.DataFrame) -> float:
    """p-value of the Friedman test that all systems (columns) rank alike over the datasets
    (rows); NaN with fewer than 3 systems or 2 datasets."""
    from scipy.stats import friedmanchisquare

    if wide.shape[1] < 3 or wide.shape[0] < 2:
        return float("nan")
    return float(friedmanchisquare(*(wide[c].to_numpy() for c in wide.columns)).pvalue)


def timing(rows: pd.DataFrame) -> pd.DataFrame:
    """Per system and budget: runs, failure rate, the 95th percentile and maximum of wall time
    / budget (of wall seconds for a system without budget)."""
    rows = rows.assign(ratio=np.where(rows["budget"].notna(), rows["wall_seconds"] / rows["budget"],
                                      rows["wall_seconds"]))
    return rows.groupby(["method", rows["budget"].fillna(-1)]).agg(
        runs=("ratio", "size"), failure_rate=("failed", "mean"),
        p95=("ratio", lambda r: float(np.percentile(r, 95))), max=("ratio", "max"))


def _p(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.2g}" if value < 0.01 else f"{value:.3f}"


def _at_budget(rows: pd.DataFrame, budget: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked rows at ``budget`` and their scores as a table: dataset x system, in
    :data:`SYSTEMS` order."""
    table = ranks(rows)
    part = table[table["budget"] == budget]
    wide = part.pivot(index="dataset", columns="method", values="score")
    return part, wide[[s for s in SYSTEMS if s in wide.columns]]


def budget_table(rows: pd.DataFrame, budget: float, reference: str = "warm", subset: str = "") -> str:
    """The markdown section of one budget (``subset`` names a part of the datasets in its title)."""
    part, wide = _at_budget(rows, budget)
    systems = list(wide.columns)
    summary = method_summary(part)
    nber = normalised_balanced_error(wide).mean()
    versus = comparisons(wide, reference) if reference in systems else pd.DataFrame()
    times = timing(rows[(rows["budget"] == budget) | rows["budget"].isna()])
    seeds = sorted(int(s) for s in rows.loc[rows["budget"] == budget, "seed"].unique())
    lines = [f"\n### Budget {budget:g} s{subset} ({len(wide)} datasets, outer split seeds "
             f"{', '.join(map(str, seeds))})\n",
             f"| system | mean rank | mean balanced accuracy | mean normalised balanced error | "
             f"{LABELS[reference].split(' ')[0]} wins/ties/losses | Holm-corrected Wilcoxon p | "
             "95th pct wall / budget | failures |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for system in systems:
        key = (system, -1.0 if system in BUDGET_FREE else budget)
        t = times.loc[key] if key in times.index else None
        wall = "n/a" if t is None else (f"{t['p95']:.2f} s (no budget)" if system in BUDGET_FREE
                                        else f"{t['p95']:.2f} (max {t['max']:.2f})")
        fails = "n/a" if t is None else f"{100 * t['failure_rate']:.0f}% of {int(t['runs'])}"
        if system in versus.index:
            v = versus.loc[system]
            wtl, p = f"{int(v['wins'])}/{int(v['ties'])}/{int(v['losses'])}", _p(float(v["p_holm"]))
        else:
            wtl, p = "", ""
        lines.append(f"| {LABELS[system]} | {summary.loc[system, 'rank']:.2f} | "
                     f"{summary.loc[system, 'score']:.4f} | {nber[system]:.3f} | {wtl} | {p} | "
                     f"{wall} | {fails} |")
    lines.append(f"\nFriedman test over the {len(systems)} systems: p = {_p(friedman(wide))}.")
    return "\n".join(lines)


def budget_efficiency(rows: pd.DataFrame, low: float, high: float, system: str = "warm",
                      peer: str = "flaml") -> str:
    """``system`` at ``low`` seconds against ``peer`` at ``high`` seconds, on the datasets
    and split seeds both ran: mean balanced accuracy and wins/ties/losses."""
    a = rows[(rows["method"] == system) & (rows["budget"] == low)]
    b = rows[(rows["method"] == peer) & (rows["budget"] == high)]
    both = a.merge(b, on=["dataset", "seed"], suffixes=("_a", "_b"))
    if both.empty:
        return ""
    per = both.groupby("dataset")[["test_balanced_accuracy_a", "test_balanced_accuracy_b"]].mean()
    diff = per.iloc[:, 0] - per.iloc[:, 1]
    return (f"{LABELS[system]} at {low:g} s: mean balanced accuracy {per.iloc[:, 0].mean():.4f}; "
            f"{LABELS[peer]} at {high:g} s: {per.iloc[:, 1].mean():.4f} ({len(per)} datasets; "
            f"{int((diff > 0).sum())}/{int((diff == 0).sum())}/{int((diff < 0).sum())} "
            "wins/ties/losses).")


def warm_vs_cold(rows: pd.DataFrame, budget: float) -> str:
    """Where the warm start's edge goes at ``budget``: on the runs (dataset, split seed) both
    metalab systems finished, the trials each evaluated, the difference (warm - cold) of their
    cross-validated ensemble scores (what the search optimises) and of their test balanced
    accuracies, and how the two differences correlate. Equal cross-validation scores with
    uncorrelated test differences mean the searches have met and the test difference is noise."""
    part = rows[(rows["budget"] == budget) & ~rows["failed"]]
    both = part[part["method"] == "warm"].merge(part[part["method"] == "cold"], on=["dataset", "seed"],
                                                suffixes=("_w", "_c"))
    if both.empty or "cv_ensemble_w" not in both:
        return ""
    cv = both["cv_ensemble_w"] - both["cv_ensemble_c"]
    test = both["test_balanced_accuracy_w"] - both["test_balanced_accuracy_c"]
    corr = float(np.corrcoef(cv, test)[0, 1]) if cv.std() > 0 and test.std() > 0 else float("nan")
    return (f"Warm start against cold start at {budget:g} s ({len(both)} runs): median trials "
            f"{both['trials_w'].median():.0f} warm, {both['trials_c'].median():.0f} cold; "
            f"cross-validated score warm - cold {cv.mean():+.4f} (warm higher/equal/lower "
            f"{int((cv > 0).sum())}/{int((cv == 0).sum())}/{int((cv < 0).sum())}); test balanced "
            f"accuracy warm - cold {test.mean():+.4f} ({int((test > 0).sum())}/{int((test == 0).sum())}/"
            f"{int((test < 0).sum())}); correlation of the two differences "
            f"{'n/a' if np.isnan(corr) else f'{corr:+.2f}'}.")


def near_ties(rows: pd.DataFrame, budget: float, span: float = 0.01) -> str:
    """How much of metalab's warm - cold normalised balanced error at ``budget`` comes from
    near ties: datasets where all systems' balanced accuracies lie within ``span``. There the
    normalisation stretches a difference of a few thousandths to the whole 0-1 range, so the
    mean is also given over the other datasets."""
    wide = _at_budget(rows, budget)[1]
    if "warm" not in wide or "cold" not in wide:
        return ""
    nber = normalised_balanced_error(wide)
    close = (wide.max(axis=1) - wide.min(axis=1)) < span
    diff = nber["warm"] - nber["cold"]
    rest = nber[~close]
    return (f"Near ties at {budget:g} s: on {int(close.sum())} of {len(wide)} datasets all systems lie "
            f"within {span:g} balanced accuracy; there warm - cold normalised balanced error sums to "
            f"{diff[close].sum():+.2f} (balanced accuracy warm - cold "
            f"{(wide['warm'] - wide['cold'])[close].mean():+.4f}), against {diff[~close].sum():+.2f} on "
            f"the other {len(rest)}, where the mean normalised balanced error is {rest['warm'].mean():.3f} "
            f"warm and {rest['cold'].mean():.3f} cold.")


def plot_wall(rows: pd.DataFrame, path: str) -> None:
    """Wall time / budget of every run, per system and budget (one dot per run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = rows[rows["budget"].notna()]
    budgets = sorted(runs["budget"].unique())
    fig, axes = plt.subplots(1, len(budgets), figsize=(5 * len(budgets), 3.5), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, budget in zip(axes[0], budgets):
        at = runs[runs["budget"] == budget]
        systems = [s for s in SYSTEMS if s in set(at["method"])]
        for i, system in enumerate(systems):
            ratio = (at.loc[at["method"] == system, "wall_seconds"] / budget).to_numpy()
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(ratio)), ratio, s=12, alpha=0.7)
            ax.plot([i - 0.3, i + 0.3], [np.percentile(ratio, 95)] * 2, color="black")
        ax.set_yscale("log")
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
        ax.axhline(1.1, color="tab:red", linestyle=":", linewidth=0.8)
        ax.set_xticks(range(len(systems)), [LABELS[s].split(" ", 1)[1] for s in systems],
                      rotation=20, fontsize=7)
        ax.set_ylabel("wall time of fit / budget")
        ax.set_title(f"budget {budget:g} s (bar: 95th percentile; red: 1.1)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def dataset_kinds(keel_root: str | None, datasets: set[str]) -> dict[str, list[str]]:
    """The datasets by the KEEL manifest's ``kind`` (``balanced``, ``imbalanced``); empty
    without a KEEL folder."""
    import json
    import os

    root = keel_root or os.environ.get("METALAB_KEEL")
    if not root or not (Path(root) / "manifest.json").is_file():
        return {}
    manifest = json.loads((Path(root) / "manifest.json").read_text(encoding="utf-8"))["datasets"]
    kinds: dict[str, list[str]] = {}
    for entry in manifest:
        if entry["name"] in datasets:
            kinds.setdefault(entry["kind"], []).append(entry["name"])
    return dict(sorted(kinds.items()))


def plot_rank(rows: pd.DataFrame, path: str) -> None:
    """Mean rank (test balanced accuracy, among the systems run at that budget) against the
    budget, one line per system: the peers' internal validation scores are not comparable,
    so rank over time is drawn over budgets, not within a search."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = ranks(rows)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    budgets = sorted(table["budget"].unique())
    for system in SYSTEMS:
        points = [(b, float(table[(table["budget"] == b) & (table["method"] == system)]["rank"].mean()))
                  for b in budgets if ((table["budget"] == b) & (table["method"] == system)).any()]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", label=LABELS[system])
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{b:g} s" for b in budgets])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.invert_yaxis()
    ax.set_xlabel("budget per dataset")
    ax.set_ylabel("mean rank (1 = best)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def command_report(args: argparse.Namespace) -> int:
    rows = score_failures(load_rows(args.runs))
    rows = rows[rows["method"].isin(SYSTEMS)].reset_index(drop=True)
    budgets = sorted(rows["budget"].dropna().unique())
    sections = [budget_table(rows, budget, args.reference) for budget in budgets]
    for kind, names in dataset_kinds(args.keel_root, set(rows["dataset"])).items():
        part = rows[rows["dataset"].isin(names)]
        sections += [budget_table(part, budget, args.reference, f", {kind} datasets only")
                     for budget in budgets if (part["budget"] == budget).any()]
    if len(budgets) > 1:
        line = budget_efficiency(rows, budgets[0], budgets[-1], args.reference)
        if line:
            sections.append("\n" + line)
    sections += ["\n" + line for line in (warm_vs_cold(rows, budget) for budget in budgets) if line]
    sections += ["\n" + line for line in (near_ties(rows, budget) for budget in budgets) if line]
    text = "\n".join(sections) + "\n"
    print(text)
    if args.md:
        Path(args.md).write_text(text, encoding="utf-8")
    if args.plot_wall:
        plot_wall(rows, args.plot_wall)
        print(f"wrote {args.plot_wall}")
    if args.plot_rank:
        plot_rank(rows, args.plot_rank)
        print(f"wrote {args.plot_rank}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="JSON-lines files of automl_peers.py run (e.g. one per shard)")
    parser.add_argument("--reference", default="warm", choices=SYSTEMS,
                        help="the system compared with each other one (default: metalab warm-started)")
    parser.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL): adds the tables "
                        "per kind of dataset (balanced, imbalanced) from its manifest")
    parser.add_argument("--md", help="write the tables here")
    parser.add_argument("--plot-wall", help="write the wall time / budget plot here (PNG)")
    parser.add_argument("--plot-rank", help="write the mean rank against the budget here (PNG)")
    args = parser.parse_args(argv)
    return command_report(args)


if __name__ == "__main__":
    sys.exit(main())
