"""metalab.automl against the AutoML systems a user would pick instead: FLAML and AutoGluon.

The same outer splits as ``automl_logo.py`` (a stratified 70/30 train/test split per dataset
and split seed, :func:`automl_logo._split`); every system fits on the training part within
the budget B and is scored by balanced accuracy on the test part. Systems:

  (a) warm       metalab AutoClassifier(time_budget=B), warm-started from the shipped base
                 without the test dataset's group (leave-one-group-out, as automl_logo.py)
  (b) cold       the same search, cold-started (metabase=None)
  (c) flaml      flaml.AutoML().fit(time_budget=B, n_jobs=1): its full search over its default
                 estimator list, with balanced accuracy as a custom metric (FLAML has none)
  (d) autogluon  TabularPredictor(eval_metric="balanced_accuracy").fit(time_limit=B,
                 num_cpus=1, num_gpus=0), presets "medium_quality" below 60 s and
                 "good_quality" from 60 s; tree models only (LightGBM, CatBoost, XGBoost,
                 random forest, extra trees: its neural networks are excluded, and no
                 foundation model is in these presets), nothing downloaded
  (e) hgb        scikit-learn's HistGradientBoostingClassifier with defaults (no budget)

metalab runs one thread (its models take n_jobs=1 and its fits run under
threadpool_limits(1)); the peers are matched: n_jobs=1, num_cpus=1, and every fit runs
under threadpool_limits(1) with OMP_NUM_THREADS=1. One job per core: pin each shard with
``taskset -c K``. Each row records the wall time of ``fit`` (``wall_seconds``) beside its
budget, the time with prediction (``total_seconds``), the CPU model, the cores the process
may use and the load average.
A system that raises, or returns no prediction, is recorded with ``failed: true`` and scores
balanced accuracy 0.5 (:data:`FAILED_SCORE`), a constant predictor's score on two classes as
the AutoML Benchmark imputes it (on K > 2 classes a constant predictor scores 1/K, so 0.5
is lenient there); an overrun is recorded, never cut short or excused, up to a hard limit:
each run is a forked child process, killed with everything it started once it has run
``max(--kill-factor x budget, --kill-floor)`` seconds (20 x and 300 s by default; the pilot's
worst overrun was 14.6 x), and recorded as failed with ``killed: true`` and the limit as its
(lower-bound) wall time. A hang or a crash of one system then costs one row, not the shard.

Run (rows are appended to a JSON-lines file; a rerun skips the (dataset, system, budget,
split seed) rows already there, so a run cut short resumes):

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/automl_peers.py run \\
        --budgets 10 60 --seeds 0 1 2 --shuffle 0 --shard 1/2 --out peers_shard1.jsonl
    python benchmarks/automl_peers_report.py peers_shard*.jsonl --md table.md

Needs ``pip install -e '.[automl,bench]'`` (install torch==2.13.0 first); a peer that is not
installed is left out with a message.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy and the boosting libraries load

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from automl_logo import (  # noqa: E402
    _balanced_accuracy,
    _split,
    add_selection_arguments,
    categorical_frames,
    finished_keys,
    run_auto,
    select_entries,
)

SYSTEMS = ("warm", "cold", "flaml", "autogluon", "hgb")
LABELS = {
    "warm": "(a) metalab, warm start",
    "cold": "(b) metalab, cold start",
    "flaml": "(c) FLAML AutoML",
    "autogluon": "(d) AutoGluon-Tabular",
    "hgb": "(e) HistGradientBoosting defaults",
}
BUDGET_FREE = ("hgb",)
PEER_MODULES = {"flaml": "flaml", "autogluon": "autogluon.tabular"}
FAILED_SCORE = 0.5
# AutoGluon's model types that are not trees: its two neural networks (the presets used here
# hold no foundation model; their other members are GBM, CAT, XGB, RF and XT).
AUTOGLUON_EXCLUDED = ["NN_TORCH", "FASTAI"]

Data = tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]


def autogluon_preset(budget: float) -> str:
    """AutoGluon's preset at ``budget`` seconds: ``good_quality`` (bagged and stacked) from 60 s,
    ``medium_quality`` (single models) below, where bagging leaves too little time per fold."""
    return "good_quality" if budget >= 60 else "medium_quality"


def fit_flaml(budget: float, seed: int, data: Data) -> tuple[np.ndarray, dict]:
    """flaml.AutoML's search at ``budget`` seconds on one thread, with 1 - balanced accuracy
    as the validation loss (its custom-metric signature) and its default estimator list."""
    from flaml import AutoML
    from sklearn.metrics import balanced_accuracy_score

    X_train, X_test, y_train, _ = data

    def balanced_error(X_val, y_val, estimator, labels, X_train, y_train, *args, **kwargs):
        score = balanced_accuracy_score(y_val, estimator.predict(X_val))
        return 1.0 - score, {"val_balanced_accuracy": score}

    automl = AutoML()
    start = time.monotonic()
    automl.fit(X_train, y_train, task="classification", time_budget=budget, metric=balanced_error,
               n_jobs=1, seed=seed, verbose=0)
    wall = time.monotonic() - start
    return automl.predict(X_test), {"wall_seconds": wall, "chosen": automl.best_estimator,
                                    "cv_best_single": 1.0 - automl.best_loss}


def fit_autogluon(budget: float, seed: int, data: Data) -> tuple[np.ndarray, dict]:
    """AutoGluon-Tabular at ``budget`` seconds on one CPU, tree models only, in a temporary
    folder removed afterwards."""
    from autogluon.tabular import TabularPredictor

    X_train, X_test, y_train, _ = data
    train = X_train.assign(__label__=y_train)
    folder = tempfile.mkdtemp(prefix="autogluon-")
    try:
        predictor = TabularPredictor(label="__label__", eval_metric="balanced_accuracy",
                                     path=folder, verbosity=0)
        start = time.monotonic()
        predictor.fit(train, time_limit=budget, presets=autogluon_preset(budget), num_cpus=1,
                      num_gpus=0, excluded_model_types=AUTOGLUON_EXCLUDED,
                      ag_args_fit={"random_seed": seed})
        wall = time.monotonic() - start
        predicted = np.asarray(predictor.predict(X_test))
        return predicted, {"wall_seconds": wall, "chosen": predictor.model_best,
                           "preset": autogluon_preset(budget),
                           "models": len(predictor.model_names())}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fit_hgb(budget: float | None, seed: int, data: Data) -> tuple[np.ndarray, dict]:
    """HistGradientBoostingClassifier with defaults; text columns as pandas categoricals, which
    it takes natively."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X_train, X_test, y_train, _ = data
    train, test = categorical_frames(X_train, X_test)
    start = time.monotonic()
    model = HistGradientBoostingClassifier(random_state=seed).fit(train, y_train)
    return model.predict(test), {"wall_seconds": time.monotonic() - start}


def fit_metalab(kind: str) -> Callable[..., tuple[np.ndarray | None, dict]]:
    """(a) or (b) through ``automl_logo.run_auto`` (leave-one-group-out base, same scoring)."""
    def fit(budget: float, seed: int, data: Data, *, group: str, base: Any) -> tuple[None, dict]:
        row = run_auto(kind, budget, group, base, seed, data)
        row.pop("history", None)
        row["wall_seconds"] = row["fit_seconds"]  # fit's own wall clock (run_auto also predicts)
        return None, row
    return fit


RUNNERS: dict[str, Callable[..., tuple[np.ndarray | None, dict]]] = {
    "warm": fit_metalab("warm"), "cold": fit_metalab("cold"), "flaml": fit_flaml,
    "autogluon": fit_autogluon, "hgb": fit_hgb,
}


def run_one(system: str, budget: float | None, seed: int, data: Data, **context: Any) -> dict:
    """One system on one split: a row with the test balanced accuracy, or, when it raises or
    predicts nothing, ``failed: true``, the error and :data:`FAILED_SCORE`."""
    from threadpoolctl import threadpool_limits

    start = time.monotonic()
    try:
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if system in ("warm", "cold"):
                predicted, row = RUNNERS[system](budget, seed, data, **context)
            else:
                predicted, row = RUNNERS[system](budget, seed, data)
                if predicted is None or len(predicted) != len(data[3]):
                    raise RuntimeError(f"{system} returned {0 if predicted is None else len(predicted)} "
                                       f"predictions for {len(data[3])} test rows")
                row["test_balanced_accuracy"] = _balanced_accuracy(data[3], predicted)
        row["failed"] = False
    except Exception as error:  # a system failing on a dataset is a result, recorded
        row = {"failed": True, "error": f"{type(error).__name__}: {error}"[:500],
               "test_balanced_accuracy": FAILED_SCORE}
    row.setdefault("wall_seconds", time.monotonic() - start)
    row["total_seconds"] = time.monotonic() - start
    row["wall_over_budget"] = row["wall_seconds"] / budget if budget else None
    return row


def run_isolated(system: str, budget: float | None, seed: int, data: Data, limit: float,
                 **context: Any) -> dict:
    """:func:`run_one` in a forked child process in its own session, killed (with any process
    it started) after ``limit`` seconds: a row with ``killed: true`` then, or with the exit
    code when the child dies without a row. The child inherits ``data`` and ``context`` and
    runs in a temporary working folder, removed after it."""
    import multiprocessing
    import signal

    def child(connection: Any) -> None:
        os.setsid()
        folder = tempfile.mkdtemp(prefix="automl-peers-")
        os.chdir(folder)  # what a system leaves in its working folder (CatBoost's) goes with it
        try:
            connection.send(run_one(system, budget, seed, data, **context))
        finally:
            connection.close()
            shutil.rmtree(folder, ignore_errors=True)

    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(target=child, args=(sender,))
    start = time.monotonic()
    process.start()
    sender.close()
    row, finished = None, receiver.poll(limit)  # a row, or the end of the pipe: the child died
    if finished:
        try:
            row = receiver.recv()
        except EOFError:
            pass
    elapsed = time.monotonic() - start
    if not finished:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.join()
        return {"failed": True, "killed": True, "test_balanced_accuracy": FAILED_SCORE,
                "error": f"killed after {elapsed:.0f} s, the hard limit of {limit:g} s",
                "wall_seconds": elapsed, "total_seconds": elapsed,
                "wall_over_budget": elapsed / budget if budget else None}
    process.join()
    if row is None:
        return {"failed": True, "test_balanced_accuracy": FAILED_SCORE,
                "error": f"the run's process died with exit code {process.exitcode} before its row",
                "wall_seconds": elapsed, "total_seconds": elapsed,
                "wall_over_budget": elapsed / budget if budget else None}
    return row


def hard_limit(budget: float | None, factor: float, floor: float) -> float:
    """Seconds after which a run is killed: ``factor`` budgets, at least ``floor``."""
    return max(factor * budget, floor) if budget else floor


def installed_systems(systems: list[str]) -> list[str]:
    """``systems`` without the peers whose package is not installed (with a message)."""
    import importlib.util

    kept = []
    for system in systems:
        module = PEER_MODULES.get(system)
        try:
            present = module is None or importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            present = False
        if present:
            kept.append(system)
        else:
            print(f"{module} is not installed: {LABELS[system]} is left out "
                  "(pip install -e '.[automl,bench]')", file=sys.stderr)
    return kept


def _machine() -> dict[str, Any]:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"machine": f"{platform.machine()} {cpu_model()} python {platform.python_version()}",
            "cores": cores, "omp_threads": os.environ.get("OMP_NUM_THREADS")}


def command_run(args: argparse.Namespace) -> int:
    from metalab.automl import load_keel, load_metabase

    entries = select_entries(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = finished_keys(out)
    systems = installed_systems(args.systems)
    base = load_metabase(args.metabase) if "warm" in systems else None
    machine = _machine()
    for seed in args.seeds:
        for entry in entries:
            jobs = [(s, None) for s in systems if s in BUDGET_FREE]
            jobs += [(s, b) for b in args.budgets for s in systems if s not in BUDGET_FREE]
            jobs = [(s, b) for s, b in jobs if (entry["name"], s, b, seed) not in done]
            if not jobs:
                continue
            dataset = load_keel(entry["name"], args.keel_root)
            data = _split(dataset, seed)
            for system, budget in jobs:
                load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
                row = run_isolated(system, budget, seed, data,
                                   hard_limit(budget, args.kill_factor, args.kill_floor),
                                   group=dataset.group, base=base)
                row.update(dataset=dataset.name, group=dataset.group, method=system, budget=budget,
                           seed=seed, load_before=load,
                           date=datetime.now(timezone.utc).isoformat(timespec="seconds"), **machine)
                with open(out, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(row, default=float) + "\n")
                print(f"{dataset.name:32s} {system:9s} {str(budget):5s} seed {seed} "
                      f"{row['test_balanced_accuracy']:.4f} {row['wall_seconds']:.1f}s"
                      + (f" FAILED {row['error']}" if row["failed"] else ""), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the systems and append rows")
    run.add_argument("--keel-root", help="KEEL folder (default: $METALAB_KEEL)")
    run.add_argument("--metabase", default="default", help="base to warm-start (a) from (the test "
                     "dataset's group is held out)")
    run.add_argument("--budgets", type=float, nargs="+", default=[10.0, 60.0])
    run.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                     help="outer train/test split seeds (automl_logo.py's --seed)")
    add_selection_arguments(run)
    run.add_argument("--kill-factor", type=float, default=20.0,
                     help="kill a run after this many budgets (default 20) ...")
    run.add_argument("--kill-floor", type=float, default=300.0,
                     help="... but not before this many seconds (default 300; the limit of hgb)")
    run.add_argument("--out", required=True, help="JSON-lines file to append to")
    run.set_defaults(func=command_run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
