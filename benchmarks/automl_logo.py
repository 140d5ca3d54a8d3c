"""Leave-one-group-out benchmark of metalab.automl on the KEEL corpus (issue 5).

For each dataset: a stratified train/test split (70/30, seeded); every method fits on the
training part and is scored by balanced accuracy on the test part. Methods:

  (a) warm    AutoClassifier(time_budget=B, metabase=<shipped base without this dataset's
              group>): warm-started TPE search + ensemble selection (the warm start is the
              estimator's default: a portfolio of cross-evaluated candidates when the base has
              them; rows before 2026-12-02 used the best config of each nearest dataset)
  (b) cold    the same search, cold-started (metabase=None: default config first) + ensemble
  (c) random  random search over the same space (default config first) + ensemble
  (d) flaml   FLAML's zero-shot: flaml.default.suggest_learner picks one of its learners
              (lgbm, rf, extra_tree, xgboost) and its flamlized estimator picks the
              hyperparameters from the data; no search, no budget
  (e) sklearn scikit-learn defaults of the space's families (logistic regression, k-NN,
              random forest, extra trees, histogram gradient boosting), the one with the best
              3-fold CV balanced accuracy on the training part refit on all of it

Ranks are per dataset and budget among the five (1 = best, ties averaged); (d) and (e) do
not depend on the budget and are ranked at each one. ``--seed S`` draws another train/test
split (and seeds the methods with S); the report averages a dataset's test scores over the
seeds every method ran before ranking, so repeated splits cut the single split's ties and noise.

Run on one core (results are appended to a JSON-lines file; a rerun skips what is there):

    taskset -c 1 python benchmarks/automl_logo.py run --keel-root ../shared/data/keel \
        --budgets 10 --out results/automl/EXPERIMENT/logo_10s.jsonl
    python benchmarks/automl_logo.py report results/automl/EXPERIMENT/logo_10s.jsonl \
        --md table.md --plot results/automl/EXPERIMENT/rank.png

Each experiment of ``results/automl/`` gives its exact commands in its README and meta.json.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

METHODS = ("warm", "cold", "random", "flaml", "sklearn")
# Experiments beside the protocol's five: (a) with TPE's 10 random start-up trials after the
# warm-start configurations (AutoClassifier(explore_after_warmstart=True)); (a) with the best
# configuration of each nearest dataset instead of the portfolio (warmstart="nearest"); (a)
# with the cost-aware portfolio (warmstart="portfolio-cost").
EXPERIMENTS = ("warm-explore", "warm-nearest", "warm-cost")
ALL_METHODS = METHODS + EXPERIMENTS
LABELS = {
    "warm": "(a) warm start + ensemble",
    "warm-explore": "(a') warm start, 10 random, TPE + ensemble",
    "warm-nearest": "(a'') nearest datasets' best configs + ensemble",
    "warm-cost": "(a''') cost-aware portfolio + ensemble",
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


def run_auto(kind: str, budget: float, group: str, base: Any, seed: int, data: tuple,
             families: list[str] | None = None) -> dict:
    from metalab.automl import AutoClassifier

    X_train, X_test, y_train, y_test = data
    params: dict[str, Any] = {"time_budget": budget, "seed": seed, "families": families}
    warm = kind in ("warm", "warm-explore", "warm-nearest", "warm-cost")
    if warm:
        params["metabase"] = base.without_groups([group])
        params["explore_after_warmstart"] = kind == "warm-explore"
        if kind == "warm-nearest":
            params["warmstart"] = "nearest"
        if kind == "warm-cost":
            params["warmstart"] = "portfolio-cost"
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
        "warmstart": (model.warmstart if params["metabase"].candidates else "nearest") if warm else None,
        "metabase": (base.info.get("exported", "") + " " + base.source).strip() if warm else None,
        "families": list(model.families) if model.families is not None else None,
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


def categorical_frames(X_train: pd.DataFrame, X_test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of the two parts with every non-numeric column as a pandas ``Categorical`` over
    the values of both parts (so train and test share one coding), for learners that take
    categorical columns natively (LightGBM, XGBoost, HistGradientBoosting)."""
    def categorical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = pd.Categorical(frame[column], categories=sorted(
                    set(X_train[column].dropna()) | set(X_test[column].dropna())))
        return frame

    return categorical(X_train), categorical(X_test)


def run_flaml(seed: int, data: tuple) -> dict:
    import flaml.default as zero_shot
    from flaml.default import suggest_learner

    X_train, X_test, y_train, y_test = data
    classes = {"lgbm": zero_shot.LGBMClassifier, "rf": zero_shot.RandomForestClassifier,
               "extra_tree": zero_shot.ExtraTreesClassifier, "xgboost": zero_shot.XGBClassifier}
    start = time.monotonic()
    train, test = categorical_frames(X_train, X_test)
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


def select_entries(args: argparse.Namespace) -> list[dict]:
    """The KEEL manifest entries a run visits, in order: ``--datasets``, ``--one-per-group``,
    ``--max-rows``, then ``--shuffle`` and ``--shard`` (every N-th from the K-th)."""
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
    return entries


def finished_keys(out: Path) -> set[tuple]:
    """(dataset, method, budget, seed) of every row already in the JSON-lines file ``out``:
    the runs a rerun skips."""
    done = set()
    if out.is_file():
        for line in out.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done.add((row["dataset"], row["method"], row["budget"], row.get("seed", 0)))
    return done


def command_run(args: argparse.Namespace) -> int:
    from metalab.automl import load_keel, load_metabase

    entries = select_entries(args)
    out = Path(args.out)
    done = finished_keys(out)
    base = load_metabase(args.metabase)
    methods = [m for m in args.methods if m != "flaml" or _has_flaml()]
    machine = f"{platform.machine()} {cpu_model()} python {platform.python_version()}"
    for entry in entries:
        dataset = load_keel(entry["name"], args.keel_root)
        data = _split(dataset, args.seed)
        jobs = [(m, None) for m in methods if m in BUDGET_FREE]
        jobs += [(m, b) for b in args.budgets for m in methods if m not in BUDGET_FREE]
        for method, budget in jobs:
            key = (dataset.name, method, budget, args.seed)
            if key in done:
                continue
            try:
                if method == "sklearn":
                    row = run_sklearn(args.seed, data)
                elif method == "flaml":
                    row = run_flaml(args.seed, data)
                else:
                    row = run_auto(method, budget, dataset.group, base, args.seed, data,
                                   families=args.families)
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


def _command_report(args: argparse.Namespace) -> int:
    from automl_logo_report import command_report  # its own module; it imports this one's names

    return command_report(args)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """The options :func:`select_entries` reads (beside ``--keel-root``)."""
    parser.add_argument("--datasets", nargs="+", help="only these datasets")
    parser.add_argument("--one-per-group", action="store_true", help="first dataset of each group only")
    parser.add_argument("--max-rows", type=int, help="skip datasets with more rows")
    parser.add_argument("--shuffle", type=int, metavar="SEED", help="visit datasets in a seeded random order")
    parser.add_argument("--shard", metavar="K/N", help="only every N-th dataset from the K-th (0-based), "
                        "after --shuffle: N processes on N cores, each with its own --out")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the methods and append results")
    run.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL)")
    run.add_argument("--metabase", default="default", help="base to warm-start from (its group is held out)")
    run.add_argument("--budgets", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    run.add_argument("--methods", nargs="+", default=list(METHODS), choices=ALL_METHODS)
    add_selection_arguments(run)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--families", nargs="+", metavar="FAMILY",
                     help="model families of (a), (b) and (c) (default: AutoClassifier's); "
                     "(e) keeps the default five")
    run.add_argument("--out", required=True, help="JSON-lines file to append to")
    run.set_defaults(func=command_run)
    report = sub.add_parser("report", help="mean ranks and scores from a runs file")
    report.add_argument("runs", nargs="+", help="JSON-lines files (e.g. one per shard)")
    report.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL)")
    report.add_argument("--methods", nargs="+", default=list(METHODS), choices=ALL_METHODS,
                        help="rank among these (default: the protocol's five); e.g. warm-explore "
                        "in place of warm to rank the experiment")
    report.add_argument("--split-warm", action="store_true",
                        help="count warm rows of the nearest-datasets warm start (before "
                        "2026-12-02, or warmstart nearest) as warm-nearest, beside the portfolio's")
    report.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                        help="only the rows of these train/test split seeds (default: all)")
    report.add_argument("--md", help="write the tables here")
    report.add_argument("--plot", help="write the mean-rank-over-budget plot here (PNG)")
    report.add_argument("--plot-time", help="write the rank-over-time plot of the searches here (PNG)")
    report.set_defaults(func=_command_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
