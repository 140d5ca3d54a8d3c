"""The report half of the leave-one-group-out benchmark (``automl_logo.py report``).

Mean ranks and balanced accuracies per budget from the JSON-lines rows that
``automl_logo.py run`` appends, the rank-over-budget plot and the rank-over-time plot of the
searches (auto-sklearn's figure).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from automl_logo import ALL_METHODS, BUDGET_FREE, LABELS


def load_rows(paths: list[str], *, split_warm: bool = False) -> pd.DataFrame:
    """The rows of the JSON-lines files, in order; a later row replaces an earlier one for the
    same dataset, method, budget and seed (the seed of the train/test split), so a rerun of one
    method (say the warm start with a rebuilt base, in its own file given last) is reported
    beside the others' rows, and runs with other seeds add repeats.

    With ``split_warm``, warm rows of the nearest-datasets warm start (those that say
    ``"warmstart": "nearest"``, and those from before 2026-12-02, which do not say) count as
    method ``warm-nearest``, so they stand beside the portfolio's instead of being replaced."""
    rows = pd.DataFrame([json.loads(line) for path in paths
                         for line in Path(path).read_text().splitlines() if line.strip()])
    if split_warm:
        kind = rows["warmstart"] if "warmstart" in rows else pd.Series(None, index=rows.index)
        nearest = (rows["method"] == "warm") & (kind.isna() | (kind == "nearest"))
        rows.loc[nearest, "method"] = "warm-nearest"
    rows["budget"] = pd.to_numeric(rows["budget"], errors="coerce")
    rows["seed"] = pd.to_numeric(rows["seed"], errors="coerce").fillna(0).astype(int) \
        if "seed" in rows else 0
    before = len(rows)
    rows = (rows.assign(budget_key=rows["budget"].fillna(-1))
            .drop_duplicates(["dataset", "method", "budget_key", "seed"], keep="last")
            .drop(columns="budget_key").reset_index(drop=True))
    if len(rows) < before:
        print(f"{before - len(rows)} row(s) replaced by a later file's row for the same dataset, "
              "method, budget and seed")
    return rows


def _per_dataset(at: pd.DataFrame, values: str) -> pd.DataFrame:
    """One row per dataset, one column per method: ``values`` averaged over the split seeds
    that every method ran on that dataset (a seed some method lacks is left out, so that
    every method is scored on the same test splits). Means are rounded to 1e-9: the same
    scores met in another order of seeds sum to floats a few ulps apart, which would turn a
    tie into a win or a loss."""
    wide = at.pivot_table(index=["dataset", "seed"], columns="method", values=values).dropna()
    return wide.groupby(level="dataset").mean().round(9)


def ranks(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, budget, method) with the test score (the mean over the split
    seeds every method ran) and its rank among methods."""
    budgets = sorted(b for b in rows["budget"].dropna().unique())
    free = rows[rows["budget"].isna()]
    table = []
    for budget in budgets:
        at = pd.concat([rows[rows["budget"] == budget], free.assign(budget=budget)])
        wide = _per_dataset(at, "test_balanced_accuracy")  # datasets where every method scored
        ranked = wide.rank(axis=1, ascending=False, method="average")
        for dataset in wide.index:
            for method in wide.columns:
                table.append({"dataset": dataset, "budget": budget, "method": method,
                              "score": wide.loc[dataset, method], "rank": ranked.loc[dataset, method]})
    return pd.DataFrame(table)


def _best_so_far(history: list, times: np.ndarray) -> np.ndarray:
    """The best score of ``history`` ((seconds, score) per trial, score None for a failed
    one) finished by each of ``times``; -inf before the first finished trial."""
    best = np.full(len(times), -np.inf)
    for seconds, score in history:
        if score is not None:
            best[times >= seconds] = np.maximum(best[times >= seconds], score)
    return best


def rank_over_time(rows: pd.DataFrame, budget: float, points: int = 60) -> pd.DataFrame:
    """Mean rank over time of the searches' best CV score so far, as auto-sklearn's paper
    draws its figures: per dataset run by every searching method at ``budget`` with its
    anytime curve recorded, the methods are ranked at each time (a method with no finished
    trial yet ranks last; ties averaged), then ranks are averaged over datasets. Columns:
    one per method; index: seconds since the search started."""
    runs = rows[(rows["budget"] == budget) & ~rows["method"].isin(BUDGET_FREE)]
    if "history" not in runs:
        return pd.DataFrame()
    runs = runs[runs["history"].apply(lambda h: isinstance(h, list))]
    methods = sorted(runs["method"].unique(), key=ALL_METHODS.index)
    complete = runs.groupby(["dataset", "seed"])["method"].nunique() == len(methods)
    times = np.geomspace(budget / 100, budget, points)
    ranks_sum = np.zeros((points, len(methods)))
    runs_done = complete[complete].index  # (dataset, seed) pairs every method ran
    for dataset, seed in runs_done:
        best = np.full((points, len(methods)), -np.inf)
        for j, method in enumerate(methods):
            (history,) = runs[(runs["dataset"] == dataset) & (runs["seed"] == seed)
                              & (runs["method"] == method)]["history"]
            best[:, j] = _best_so_far(history, times)
        ranks_sum += pd.DataFrame(best).rank(axis=1, ascending=False, method="average").to_numpy()
    datasets = runs_done.get_level_values("dataset").nunique()
    return pd.DataFrame(ranks_sum / max(len(runs_done), 1), index=times, columns=methods).rename_axis(
        f"{datasets} datasets" + (f", {len(runs_done)} runs" if len(runs_done) > datasets else ""))


def score_failed_at_chance(rows: pd.DataFrame, keel_root: str | None) -> pd.DataFrame:
    """A method that produced no model (an AutoClassifier before the majority-class fallback)
    scores what that fallback scores: balanced accuracy 1 / n_classes (from the KEEL manifest,
    read only when some row failed)."""
    failed = rows["test_balanced_accuracy"].isna()
    if not failed.any():
        return rows
    from metalab.automl.datasets import keel_manifest

    rows = rows.copy()
    classes = {e["name"]: e["classes"] for e in keel_manifest(keel_root)}
    rows.loc[failed, "test_balanced_accuracy"] = [1 / classes[d] for d in rows.loc[failed, "dataset"]]
    print(f"{int(failed.sum())} run(s) without a model scored at chance level: "
          + ", ".join(f"{r.dataset}/{r.method}" for r in rows[failed].itertuples()))
    return rows


def method_summary(part: pd.DataFrame) -> pd.DataFrame:
    """Per method, over the datasets of one budget of :func:`ranks`' table: the mean rank and
    the mean test balanced accuracy (columns ``rank`` and ``score``)."""
    return part.groupby("method").agg(rank=("rank", "mean"), score=("score", "mean"))


def warm_cold_counts(wide: pd.DataFrame, warm_method: str = "warm") -> dict[str, float]:
    """(a) against (b) on the test scores of ``wide`` (one row per dataset, one column per
    method): wins, ties, losses, the datasets (b) already scores 1.0 on (``ceiling``), and the
    p-value of the one-sided Wilcoxon signed-rank test of (a) > (b) (ties dropped)."""
    from scipy.stats import wilcoxon

    warm, cold = wide[warm_method], wide["cold"]
    differ = warm != cold
    p = wilcoxon(warm[differ], cold[differ], alternative="greater").pvalue if differ.sum() else float("nan")
    return {"wins": int((warm > cold).sum()), "ties": int((warm == cold).sum()),
            "losses": int((warm < cold).sum()), "ceiling": int((cold >= 1.0).sum()), "p": float(p)}


def warm_versus_cold(wide: pd.DataFrame, warm_method: str = "warm") -> str:
    """(a) against (b) on the test scores of ``wide`` (one row per dataset, one column per
    method), as a sentence: wins, ties, losses; how many datasets (b) already scores 1.0 on,
    where no strict win is possible; and the one-sided Wilcoxon signed-rank test of (a) > (b).
    ``warm_method`` names the warm start's column (``"warm-explore"`` for the experiment)."""
    counts = warm_cold_counts(wide, warm_method)
    wins, ties, losses, ceiling, p = (counts[k] for k in ("wins", "ties", "losses", "ceiling", "p"))
    a = LABELS[warm_method].split(" ")[0]
    n = len(wide)
    shown = f"{p:.2f}" if not p < 0.01 else f"{p:.1g}"
    return (f"{a} vs (b): {wins} wins, {ties} ties, {losses} losses ({100 * wins / n:.0f}% strict "
            f"wins, {100 * (wins + ties) / n:.0f}% wins or ties); (b) scores 1.0 on {ceiling} "
            f"datasets, so at most {100 * (n - ceiling) / n:.0f}% strict wins are possible; "
            f"one-sided Wilcoxon signed-rank test of {a} > (b): p = {shown}")


def cv_versus_test(at: pd.DataFrame, warm_method: str = "warm") -> str:
    """How the test split's verdict on (a) vs (b) follows the cross-validated one: per dataset,
    the sign of (a) - (b) on the final ensemble's CV balanced accuracy (what the search
    optimises, on the training part only) against its sign on the test split. When CV says
    (a) is better on few more datasets than the test does, the strict-win share is bounded by
    the search, not by noise in the test split."""
    pair = at[at["method"].isin([warm_method, "cold"])]
    if "cv_ensemble" not in pair or pair["cv_ensemble"].isna().all():
        return ""
    cv = _per_dataset(pair, "cv_ensemble")
    test = _per_dataset(pair, "test_balanced_accuracy").loc[cv.index]
    cv_sign = np.sign(cv[warm_method] - cv["cold"])  # _per_dataset rounds: equal means subtract to 0
    test_sign = np.sign(test[warm_method] - test["cold"])
    a = LABELS[warm_method].split(" ")[0]
    counts = {s: int((cv_sign == s).sum()) for s in (1, 0, -1)}
    agree = {s: int(((cv_sign == s) & (test_sign == s)).sum()) for s in (1, -1)}
    return (f"On CV balanced accuracy (training part) {a} > (b) on {counts[1]} datasets, = on "
            f"{counts[0]}, < on {counts[-1]} of {len(cv)}; the test split agrees on {agree[1]} of "
            f"the {counts[1]} and {agree[-1]} of the {counts[-1]}")


def lead_over_time(runs: pd.DataFrame, fractions: tuple[float, ...] = (0.1, 0.3, 0.5, 1.0),
                   warm_method: str = "warm") -> str:
    """(a) against (b) on the best single configuration's CV score found so far, at fractions
    of the budget: per dataset and split seed (each run of ``runs``, all at one budget, with
    its anytime ``history``), wins, ties and losses. It shows how long the warm start's head
    start lasts in the search's own objective; a run with no finished trial by then scores
    below any that has one."""
    pair = runs[runs["method"].isin([warm_method, "cold"])]
    if "history" not in pair:
        return ""
    pair = pair[pair["history"].apply(lambda h: isinstance(h, list))]
    if set(pair["method"]) != {warm_method, "cold"}:
        return ""
    times = float(pair["budget"].iloc[0]) * np.asarray(fractions)
    best = pd.DataFrame([_best_so_far(history, times) for history in pair["history"]],
                        index=pd.MultiIndex.from_frame(pair[["method", "dataset", "seed"]]))
    warm, cold = best.loc[warm_method].align(best.loc["cold"], join="inner", axis=0)
    parts = []
    for i, at in enumerate(times):  # compared, not subtracted: -inf == -inf is a tie
        wins, ties = int((warm[i] > cold[i]).sum()), int((warm[i] == cold[i]).sum())
        parts.append(f"{at:g} s: {wins}/{ties}/{len(warm) - wins - ties} "
                     f"({100 * wins / len(warm):.0f}% strict)")
    a = LABELS[warm_method].split(" ")[0]
    return (f"Best single CV score so far, {a} vs (b), wins/ties/losses over {len(warm)} runs "
            "(dataset and split) at " + "; ".join(parts))


def pairwise_table(wide: pd.DataFrame) -> str:
    """Markdown table: the share of datasets on which the row's method scores strictly higher
    than the column's (test balanced accuracy). It shows what a strict-win share can reach
    between methods whose quality differs by a known margin (a search against defaults)."""
    methods = [m for m in ALL_METHODS if m in wide.columns]
    short = {m: LABELS[m].split(" ")[0] for m in methods}
    lines = ["| strict wins of row over column | " + " | ".join(short[m] for m in methods) + " |",
             "| --- |" + " --- |" * len(methods)]
    for row in methods:
        cells = ["" if row == col else f"{100 * (wide[row] > wide[col]).mean():.0f}%" for col in methods]
        lines.append(f"| {LABELS[row]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def command_report(args: argparse.Namespace) -> int:
    rows = load_rows(args.runs, split_warm=args.split_warm)
    rows = rows[rows["method"].isin(args.methods)]
    if args.seeds:
        rows = rows[rows["seed"].isin(args.seeds)]
    rows = rows.reset_index(drop=True)
    warm_method = next((m for m in args.methods if m.startswith("warm")), "warm")
    rows = score_failed_at_chance(rows, args.keel_root)
    table = ranks(rows)
    lines = []
    for budget, part in table.groupby("budget"):
        n = part["dataset"].nunique()
        seeds = sorted(int(s) for s in rows.loc[(rows["budget"] == budget) & rows["dataset"].isin(part["dataset"]), "seed"].unique())
        repeats = f", test scores averaged over split seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else ""
        lines.append(f"\n### Budget {budget:g} s per dataset ({n} datasets{repeats})\n")
        lines.append("| method | mean rank | mean balanced accuracy |")
        lines.append("| --- | --- | --- |")
        summary = method_summary(part)
        for method in [m for m in ALL_METHODS if m in summary.index]:
            lines.append(f"| {LABELS[method]} | {summary.loc[method, 'rank']:.2f} | "
                         f"{summary.loc[method, 'score']:.4f} |")
        wide = part.pivot(index="dataset", columns="method", values="score")
        if {warm_method, "cold"} <= set(wide.columns):
            lines.append("\n" + warm_versus_cold(wide, warm_method))
            cv_line = cv_versus_test(rows[rows["budget"] == budget], warm_method)
            if cv_line:
                lines.append("\n" + cv_line)
            lead_line = lead_over_time(rows[rows["budget"] == budget], warm_method=warm_method)
            if lead_line:
                lines.append("\n" + lead_line)
        lines.append("\n" + pairwise_table(wide))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        Path(args.md).write_text(text, encoding="utf-8")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        budgets = sorted(table["budget"].unique())
        per_budget = [set(table.loc[table["budget"] == b, "dataset"]) for b in budgets]
        common = set.intersection(*per_budget)
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        summary = (table[table["dataset"].isin(common)]
                   .groupby(["budget", "method"])["rank"].mean().unstack("method"))
        for method in [m for m in ALL_METHODS if m in summary.columns]:
            left.plot(summary.index, summary[method], marker="o", label=LABELS[method])
        left.set_xscale("log")
        left.set_xticks(summary.index, [f"{b:g}" for b in summary.index])
        left.minorticks_off()
        left.set_xlabel("time budget per dataset (s)")
        left.set_ylabel("mean rank (1 = best)")
        left.set_title(f"mean rank over budget ({len(common)} datasets run at every budget)",
                       fontsize=9)
        left.legend(fontsize=8)
        first = table[table["budget"] == budgets[0]].pivot(index="dataset", columns="method",
                                                           values="score")
        if {warm_method, "cold"} <= set(first.columns):
            gap = (first[warm_method] - first["cold"]).sort_values()
            colours = ["tab:green" if v > 0 else "tab:red" if v < 0 else "tab:gray" for v in gap]
            right.bar(range(len(gap)), gap.to_numpy(), color=colours)
            right.axhline(0, color="black", linewidth=0.5)
            right.set_xlabel("dataset (sorted)")
            right.set_ylabel("test balanced accuracy, (a) - (b)")
            right.set_title(f"warm minus cold start at {budgets[0]:g} s, {len(gap)} datasets",
                            fontsize=9)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    if args.plot_time:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        curves = {b: rank_over_time(rows, b) for b in sorted(rows["budget"].dropna().unique())}
        curves = {b: c for b, c in curves.items() if not c.empty and not c.index.name.startswith("0 ")}
        if not curves:
            raise SystemExit("--plot-time: no run has an anytime curve (rows written before 2026-11-23)")
        fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), squeeze=False)
        search_labels = {"warm": "(a) warm-started TPE", "cold": "(b) cold-started TPE", "random": "(c) random search",
                         "warm-explore": "(a') warm start, 10 random, TPE",
                         "warm-nearest": "(a'') nearest datasets' best configs, TPE",
                         "warm-cost": "(a''') cost-aware portfolio, TPE"}
        for ax, (budget, curve) in zip(axes[0], curves.items()):
            for method in curve.columns:
                ax.plot(curve.index, curve[method], label=search_labels[method])
            ax.set_xscale("log")
            ax.set_xlabel("seconds since the search started")
            ax.set_ylabel("mean rank of the best CV balanced accuracy so far")
            ax.set_title(f"budget {budget:g} s per dataset, {curve.index.name}", fontsize=9)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot_time, dpi=120)
        print(f"wrote {args.plot_time}")
    return 0
