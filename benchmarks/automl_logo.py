"""Leave-one-group-out benchmark of metalab.automl on the KEEL corpus (issue 5).

For each dataset: a stratified train/test split (70/30, seeded); every method fits on the
training part and is scored by balanced accuracy on the test part. Methods:

  (a) warm    AutoClassifier(time_budget=B, metabase=<shipped base without this dataset's
              group>): warm-started TPE search + ensemble selection
  (b) cold    the same search, cold-started (metabase=None: default config first) + ensemble
  (c) random  random search over the same space (default config first) + ensemble
  (d) flaml   FLAML's zero-shot: flaml.default.suggest_learner picks one of its learners
              (lgbm, rf, extra_tree, xgboost) and its flamlized estimator picks the
              hyperparameters from the data; no search, no budget
  (e) sklearn scikit-learn defaults of the space's families (logistic regression, k-NN,
              random forest, extra trees, histogram gradient boosting), the one with the best
              3-fold CV balanced accuracy on the training part refit on all of it

Ranks are per dataset and budget among the five (1 = best, ties averaged); (d) and (e) do
not depend on the budget and are ranked at each one.

Run on one core (results are appended to a JSON-lines file; a rerun skips what is there):

    taskset -c 1 python benchmarks/automl_logo.py run --keel-root ../shared/data/keel \
        --budgets 10 --out results/automl_logo_runs.jsonl
    python benchmarks/automl_logo.py report results/automl_logo_runs.jsonl \
        --md results/automl_logo_table.md --plot results/automl_rank.png

Needs the automl extra, plus flaml, lightgbm and xgboost for (d) (`pip install
'metalab[automl,bench]'`); without flaml, (d) is left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("warm", "cold", "random", "flaml", "sklearn")
LABELS = {
    "warm": "(a) warm start + ensemble",
    "cold": "(b) cold start + ensemble",
    "random": "(c) random search + ensemble",
    "flaml": "(d) FLAML zero-shot",
    "sklearn": "(e) sklearn defaults",
}
BUDGET_FREE = ("flaml", "sklearn")


def _split(dataset: Any, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    y = np.asarray(dataset.y).astype(str)
    return train_test_split(dataset.X, y, test_size=0.3, random_state=seed, stratify=y)


def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y_true, np.asarray(y_pred).astype(str)))


def run_auto(kind: str, budget: float, group: str, base: Any, seed: int, data: tuple) -> dict:
    from metalab.automl import AutoClassifier

    X_train, X_test, y_train, y_test = data
    params: dict[str, Any] = {"time_budget": budget, "seed": seed}
    if kind == "warm":
        params["metabase"] = base.without_groups([group])
    else:
        params["metabase"] = None
        params["search"] = "random" if kind == "random" else "tpe"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoClassifier(**params).fit(X_train, y_train)
        score = _balanced_accuracy(y_test, model.predict(X_test))
    return {
        "test_balanced_accuracy": score,
        "fit_seconds": model.fit_seconds_,
        "trials": len(model.trials_),
        "failed_trials": sum(t["status"] != "ok" for t in model.trials_),
        "cv_ensemble": model.ensemble_score_,
        "cv_best_single": model.best_score_,
        "warmstart_datasets": model.warmstart_datasets_,
        # the anytime curve: (seconds since the search started, CV balanced accuracy or None
        # for a failed trial) per finished trial
        "history": [[round(t, 3), score if status == "ok" else None] for t, _, status, score in model.history_],
    }


def _sklearn_defaults(X: pd.DataFrame) -> dict[str, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from metalab.automl._tabular import categorical_columns, numeric_columns

    def prep(scale: bool) -> ColumnTransformer:
        numeric = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
        categorical = [SimpleImputer(strategy="constant", fill_value="__missing__"),
                       OneHotEncoder(handle_unknown="ignore", sparse_output=False)]
        return ColumnTransformer([("num", make_pipeline(*numeric), numeric_columns(X)),
                                  ("cat", make_pipeline(*categorical), categorical_columns(X))])

    return {
        "logreg": make_pipeline(prep(True), LogisticRegression(max_iter=1000)),
        "knn": make_pipeline(prep(True), KNeighborsClassifier(n_jobs=1)),
        "random_forest": make_pipeline(prep(False), RandomForestClassifier(n_jobs=1, random_state=0)),
        "extra_trees": make_pipeline(prep(False), ExtraTreesClassifier(n_jobs=1, random_state=0)),
        "hist_gb": make_pipeline(prep(False), HistGradientBoostingClassifier(random_state=0)),
    }


def run_sklearn(seed: int, data: tuple) -> dict:
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X_train, X_test, y_train, y_test = data
    start = time.monotonic()
    n_splits = int(min(3, pd.Series(y_train).value_counts().min()))
    cv = StratifiedKFold(max(n_splits, 2), shuffle=True, random_state=seed)
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in _sklearn_defaults(X_train).items():
            try:
                scores[name] = float(np.mean(cross_val_score(clone(model), X_train, y_train, cv=cv,
                                                             scoring="balanced_accuracy")))
            except ValueError:
                scores[name] = float("nan")
        best = max(scores, key=lambda n: -np.inf if np.isnan(scores[n]) else scores[n])
        model = clone(_sklearn_defaults(X_train)[best]).fit(X_train, y_train)
        score = _balanced_accuracy(y_test, model.predict(X_test))
    return {"test_balanced_accuracy": score, "fit_seconds": time.monotonic() - start,
            "chosen": best, "cv_scores": scores}


def run_flaml(seed: int, data: tuple) -> dict:
    import flaml.default as zero_shot
    from flaml.default import suggest_learner

    X_train, X_test, y_train, y_test = data

    def categorical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = pd.Categorical(frame[column], categories=sorted(
                    set(X_train[column].dropna()) | set(X_test[column].dropna())))
        return frame

    classes = {"lgbm": zero_shot.LGBMClassifier, "rf": zero_shot.RandomForestClassifier,
               "extra_tree": zero_shot.ExtraTreesClassifier, "xgboost": zero_shot.XGBClassifier}
    start = time.monotonic()
    train, test = categorical(X_train), categorical(X_test)
    labels = np.unique(y_train)
    encoded = np.searchsorted(labels, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learner = suggest_learner("classification", train, encoded, estimator_list=list(classes))
        extra = {"n_jobs": 1, "random_state": seed}
        if learner == "lgbm":
            extra["verbose"] = -1
        model = classes[learner](**extra).fit(train, encoded)
        predicted = labels[np.asarray(model.predict(test)).astype(int)]
    return {"test_balanced_accuracy": _balanced_accuracy(y_test, predicted),
            "fit_seconds": time.monotonic() - start, "chosen": learner}


def command_run(args: argparse.Namespace) -> int:
    from metalab.automl import load_keel, load_metabase
    from metalab.automl.datasets import keel_manifest

    entries = keel_manifest(args.keel_root)
    if args.datasets:
        entries = [e for e in entries if e["name"] in set(args.datasets)]
    if args.one_per_group:
        seen: set[str] = set()
        entries = [e for e in entries if not (e["group"] in seen or seen.add(e["group"]))]
    if args.max_rows:
        entries = [e for e in entries if e["rows"] <= args.max_rows]
    if args.shuffle is not None:  # so that a run cut short is an unbiased sample of the corpus
        order = np.random.default_rng(args.shuffle).permutation(len(entries))
        entries = [entries[i] for i in order]
    if args.shard:
        k, n = (int(part) for part in args.shard.split("/"))
        entries = entries[k::n]
    out = Path(args.out)
    done = set()
    if out.is_file():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            done.add((row["dataset"], row["method"], row["budget"]))
    base = load_metabase(args.metabase)
    methods = [m for m in args.methods if m != "flaml" or _has_flaml()]
    machine = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    for entry in entries:
        dataset = load_keel(entry["name"], args.keel_root)
        data = _split(dataset, args.seed)
        jobs = [(m, None) for m in methods if m in BUDGET_FREE]
        jobs += [(m, b) for b in args.budgets for m in methods if m not in BUDGET_FREE]
        for method, budget in jobs:
            key = (dataset.name, method, budget)
            if key in done:
                continue
            try:
                if method == "sklearn":
                    row = run_sklearn(args.seed, data)
                elif method == "flaml":
                    row = run_flaml(args.seed, data)
                else:
                    row = run_auto(method, budget, dataset.group, base, args.seed, data)
            except Exception as error:  # a method failing on a dataset is a result, recorded
                row = {"test_balanced_accuracy": float("nan"), "error": f"{type(error).__name__}: {error}"}
            row.update(dataset=dataset.name, group=dataset.group, method=method, budget=budget,
                       seed=args.seed, date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       machine=machine)
            with open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, default=float) + "\n")
            print(f"{dataset.name:32s} {method:8s} {str(budget):5s} "
                  f"{row['test_balanced_accuracy']:.4f} {row.get('fit_seconds', float('nan')):.1f}s",
                  flush=True)
    return 0


def _has_flaml() -> bool:
    try:
        import flaml.default  # noqa: F401
    except ImportError:
        print("flaml not installed: method (d) is left out", file=sys.stderr)
        return False
    return True


def ranks(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, budget, method) with the test score and its rank among methods."""
    budgets = sorted(b for b in rows["budget"].dropna().unique())
    free = rows[rows["budget"].isna()]
    table = []
    for budget in budgets:
        at = pd.concat([rows[rows["budget"] == budget], free.assign(budget=budget)])
        wide = at.pivot_table(index="dataset", columns="method", values="test_balanced_accuracy")
        wide = wide.dropna()  # only datasets where every method has a score
        ranked = wide.rank(axis=1, ascending=False, method="average")
        for dataset in wide.index:
            for method in wide.columns:
                table.append({"dataset": dataset, "budget": budget, "method": method,
                              "score": wide.loc[dataset, method], "rank": ranked.loc[dataset, method]})
    return pd.DataFrame(table)


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
    methods = sorted(runs["method"].unique(), key=METHODS.index)
    complete = runs.groupby("dataset")["method"].nunique() == len(methods)
    times = np.geomspace(budget / 100, budget, points)
    ranks_sum = np.zeros((points, len(methods)))
    datasets = complete[complete].index
    for dataset in datasets:
        best = np.full((points, len(methods)), -np.inf)
        for j, method in enumerate(methods):
            (history,) = runs[(runs["dataset"] == dataset) & (runs["method"] == method)]["history"]
            for seconds, score in history:
                if score is not None:
                    best[times >= seconds, j] = np.maximum(best[times >= seconds, j], score)
        ranks_sum += pd.DataFrame(best).rank(axis=1, ascending=False, method="average").to_numpy()
    return pd.DataFrame(ranks_sum / max(len(datasets), 1), index=times, columns=methods).rename_axis(
        f"{len(datasets)} datasets")


def command_report(args: argparse.Namespace) -> int:
    from metalab.automl.datasets import keel_manifest

    rows = pd.DataFrame([json.loads(line) for path in args.runs for line in Path(path).read_text().splitlines()])
    rows["budget"] = pd.to_numeric(rows["budget"], errors="coerce")
    # A method that produced no model (an AutoClassifier before the majority-class fallback)
    # scores what that fallback scores: balanced accuracy 1 / n_classes.
    classes = {e["name"]: e["classes"] for e in keel_manifest(args.keel_root)}
    failed = rows["test_balanced_accuracy"].isna()
    rows.loc[failed, "test_balanced_accuracy"] = [1 / classes[d] for d in rows.loc[failed, "dataset"]]
    if failed.any():
        print(f"{int(failed.sum())} run(s) without a model scored at chance level: "
              + ", ".join(f"{r.dataset}/{r.method}" for r in rows[failed].itertuples()))
    table = ranks(rows)
    lines = []
    for budget, part in table.groupby("budget"):
        n = part["dataset"].nunique()
        lines.append(f"\n### Budget {budget:g} s per dataset ({n} datasets)\n")
        lines.append("| method | mean rank | mean balanced accuracy |")
        lines.append("| --- | --- | --- |")
        summary = part.groupby("method").agg(rank=("rank", "mean"), score=("score", "mean"))
        for method in [m for m in METHODS if m in summary.index]:
            lines.append(f"| {LABELS[method]} | {summary.loc[method, 'rank']:.2f} | "
                         f"{summary.loc[method, 'score']:.4f} |")
        wide = part.pivot(index="dataset", columns="method", values="score")
        if {"warm", "cold"} <= set(wide.columns):
            wins = int((wide["warm"] > wide["cold"]).sum())
            ties = int((wide["warm"] == wide["cold"]).sum())
            losses = int((wide["warm"] < wide["cold"]).sum())
            lines.append(f"\n(a) vs (b): {wins} wins, {ties} ties, {losses} losses "
                         f"({100 * wins / n:.0f}% strict wins, {100 * (wins + ties) / n:.0f}% wins or ties)")
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
        for method in [m for m in METHODS if m in summary.columns]:
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
        if {"warm", "cold"} <= set(first.columns):
            gap = (first["warm"] - first["cold"]).sort_values()
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
        search_labels = {"warm": "(a) warm-started TPE", "cold": "(b) cold-started TPE", "random": "(c) random search"}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the methods and append results")
    run.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL)")
    run.add_argument("--metabase", default="default", help="base to warm-start from (its group is held out)")
    run.add_argument("--budgets", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    run.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    run.add_argument("--datasets", nargs="+", help="only these datasets")
    run.add_argument("--one-per-group", action="store_true", help="first dataset of each group only")
    run.add_argument("--max-rows", type=int, help="skip datasets with more rows")
    run.add_argument("--shuffle", type=int, metavar="SEED", help="visit datasets in a seeded random order")
    run.add_argument("--shard", metavar="K/N", help="only every N-th dataset from the K-th (0-based), "
                     "after --shuffle: N processes on N cores, each with its own --out")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", required=True, help="JSON-lines file to append to")
    run.set_defaults(func=command_run)
    report = sub.add_parser("report", help="mean ranks and scores from a runs file")
    report.add_argument("runs", nargs="+", help="JSON-lines files (e.g. one per shard)")
    report.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL)")
    report.add_argument("--md", help="write the tables here")
    report.add_argument("--plot", help="write the mean-rank-over-budget plot here (PNG)")
    report.add_argument("--plot-time", help="write the rank-over-time plot of the searches here (PNG)")
    report.set_defaults(func=command_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
