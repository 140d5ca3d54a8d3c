"""``metalab automl``: build a meta-knowledge base, fit an AutoClassifier, show meta-features.

Examples::

    metalab automl build-metabase --keel-root ../shared/data/keel --storage keel.db --budget 15
    metalab automl export-metabase --storage keel.db --out metalab/automl/default_metabase.json
    metalab automl cross-evaluate --metabase keel.json --keel-root ../shared/data/keel \
        --scores cross.jsonl --write keel_cross.json     # or --write keel.db (the storage)
    metalab automl fit data.csv --target label --budget 60 --out runs/automl/data
    metalab automl predict runs/automl/data/model.skops new.csv --out predictions.csv --proba
    metalab automl metafeatures data.csv --target label
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from metalab.cli.automl_options import (
    MAX_ROWS,
    BuildOptions,
    CrossOptions,
    ExportOptions,
    FitOptions,
    PredictOptions,
    check,
)
from metalab.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "automl", help="meta-learning for AutoML on tabular data", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    build = actions.add_parser(
        "build-metabase", help="search each dataset of a corpus and store the results",
        description="Run a cold-started search on each KEEL dataset (or CSV file) and store its "
        "meta-features and every evaluated configuration in an Optuna storage. Datasets already "
        "in the storage are skipped, so the command resumes, and several can run at once.",
    )
    build.add_argument("--storage", required=True,
                       help="SQLite file path or database URL of the Optuna storage")
    build.add_argument("--keel-root", help="KEEL folder with manifest.json (default: $METALAB_KEEL)")
    build.add_argument("--datasets", nargs="+", metavar="NAME", help="only these KEEL datasets")
    build.add_argument("--csv", nargs="+", metavar="FILE", help="CSV files instead of KEEL")
    build.add_argument("--target", help="target column of the --csv files")
    build.add_argument("--budget", type=float, default=30.0, help="seconds of search per dataset")
    build.add_argument("--cv", type=int, default=3, help="cross-validation folds")
    build.add_argument("--trials", type=int, help="also stop each search after this many trials")
    build.add_argument("--per-fit-limit", type=float,
                       help="seconds allowed for one fold's fit (default: budget / 4, at least 1)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--workers", type=int, default=1, help="worker processes")
    build.add_argument("--families", nargs="+", metavar="FAMILY",
                       help="model families to search (default: the default five)")
    build.set_defaults(func=run_build)

    export = actions.add_parser(
        "export-metabase", help="write a storage's meta-features and best configs as JSON",
    )
    export.add_argument("--storage", required=True, help="SQLite file path or database URL")
    export.add_argument("--out", required=True, help="JSON file to write")
    export.add_argument("--top", type=int, default=10, help="configurations kept per dataset")
    export.add_argument("--note", default="", help="free text stored in the export's info")
    export.set_defaults(func=run_export)

    cross = actions.add_parser(
        "cross-evaluate", help="score a base's candidate configurations on every dataset",
        description="Cross-validate the best configuration of up to --per-group (2) datasets of "
        "each group of a base (the candidates) on every dataset of a corpus, appending each score to "
        "--scores as it is done (a rerun resumes; N processes can each take --shard K/N with "
        "their own --scores file); with --write, save the base with the candidates and every "
        "score of --scores and --merge as a JSON export or into the Optuna storage the base was "
        "built in; the base's warm start is then a portfolio.",
    )
    cross.add_argument("--metabase", required=True,
                       help="'default', a JSON export, an SQLite file or a database URL")
    cross.add_argument("--scores", required=True, help="JSON-lines file of scores to append to")
    cross.add_argument("--keel-root", help="KEEL folder with manifest.json (default: $METALAB_KEEL)")
    cross.add_argument("--datasets", nargs="+", metavar="NAME", help="only these KEEL datasets")
    cross.add_argument("--csv", nargs="+", metavar="FILE", help="CSV files instead of KEEL")
    cross.add_argument("--target", help="target column of the --csv files")
    cross.add_argument("--shard", metavar="K/N", help="only every N-th dataset from the K-th")
    cross.add_argument("--merge-only", action="store_true",
                       help="evaluate nothing; only --write the base with the scores")
    cross.add_argument("--merge", nargs="+", default=[], metavar="FILE",
                       help="more score files (other shards) to include in --write")
    cross.add_argument("--write", metavar="OUT",
                       help="write the base with the scores here: a .json export, or the Optuna "
                            "storage (path or URL) the base was built in")
    cross.add_argument("--cv", type=int, default=3, help="cross-validation folds (as the base's)")
    cross.add_argument("--seed", type=int, default=0, help="seed (as the base's)")
    cross.add_argument("--per-fit-limit", type=float, default=5.0,
                       help="seconds allowed for one fold's fit; slower candidates score 0")
    cross.add_argument("--max-rows", type=int, default=1000,
                       help="cross-validate larger datasets on a stratified sample of this size")
    cross.add_argument("--per-group", type=int, default=2,
                       help="candidates: the best configuration of up to this many datasets of each group")
    cross.add_argument("--add-candidates", metavar="BASE",
                       help="also take the candidates of this base (e.g. one built with other "
                       "--families), named ORIGIN@STEM of its file")
    cross.add_argument("--add-per-group", type=int, default=1,
                       help="candidates per group taken from --add-candidates")
    cross.add_argument("--note", default="", help="free text added to the export's info")
    cross.set_defaults(func=run_cross)

    fit = actions.add_parser("fit", help="fit an AutoClassifier on a CSV file",
                             description="Search, ensemble, print a leaderboard, save the model.")
    fit.add_argument("csv", help="CSV file with a header row")
    fit.add_argument("--target", required=True, help="name of the class column")
    fit.add_argument("--budget", type=float, default=60.0, help="seconds for the whole fit")
    fit.add_argument("--metabase", default="default",
                     help="'default' (shipped), 'none' (cold start), a path or a database URL")
    fit.add_argument("--out", required=True,
                     help="folder for model.skops, leaderboard.csv, run.json")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--families", nargs="+", metavar="FAMILY",
                     help="model families to search (default: logreg knn random_forest "
                     "extra_trees hist_gb; svm and mlp may be added)")
    fit.add_argument("--na-values", nargs="*", default=[], help="extra tokens meaning missing")
    fit.add_argument("--max-rows", type=int, default=MAX_ROWS,
                     help="refuse a CSV with more rows than this")
    fit.add_argument("--no-progress", action="store_true",
                     help="no progress bar or live leaderboard while the search runs")
    fit.set_defaults(func=run_fit)

    predict = actions.add_parser(
        "predict", help="predict a CSV file's classes with a fitted model",
        description="Load a model.skops written by `fit` (refusing files with types other than "
        "metalab's, scikit-learn's or numpy's), check the CSV's columns against those seen at "
        "fit (a missing one is an error, extra ones are ignored with a warning) and write one "
        "prediction per row.",
    )
    predict.add_argument("model", help="model.skops file, or the run folder holding it")
    predict.add_argument("csv", help="CSV file with a header row and the fitted columns")
    predict.add_argument("--out", help="CSV file to write (default: print to stdout)")
    predict.add_argument("--proba", action="store_true",
                         help="also write each class's probability (columns proba:CLASS)")
    predict.add_argument("--na-values", nargs="*", default=[], help="extra tokens meaning missing")
    predict.add_argument("--max-rows", type=int, default=MAX_ROWS,
                         help="refuse a CSV with more rows than this")
    predict.set_defaults(func=run_predict)

    meta = actions.add_parser("metafeatures", help="print the meta-features of a CSV file")
    meta.add_argument("csv", help="CSV file with a header row")
    meta.add_argument("--target", required=True, help="name of the class column")
    meta.add_argument("--na-values", nargs="*", default=[], help="extra tokens meaning missing")
    meta.set_defaults(func=run_metafeatures)
    return parser


def _corpus(args: argparse.Namespace) -> list:
    from metalab.automl.datasets import load_csv, load_keel_corpus

    if args.csv:
        return [load_csv(path, args.target) for path in args.csv]
    return load_keel_corpus(args.keel_root, names=args.datasets)


def run_build(args: argparse.Namespace) -> int:
    from functools import partial

    from metalab.automl.build import build_metabase, build_metabase_parallel
    from metalab.automl.space import check_families

    check(BuildOptions, args)
    options = dict(time_budget=args.budget, seed=args.seed, cv=args.cv,
                   per_fit_time_limit=args.per_fit_limit, n_trials=args.trials,
                   families=check_families(args.families))
    start = time.monotonic()
    if args.workers == 1:
        added = build_metabase(_corpus(args), args.storage,
                               log=lambda line: print(line, flush=True), **options)
        print(f"added {len(added)} dataset(s) to {args.storage} in {time.monotonic() - start:.0f} s")
    else:
        _corpus(args)  # fail here, once, on a bad corpus rather than in every worker
        build_metabase_parallel(partial(_corpus, args), args.storage, workers=args.workers,
                                **options)
        print(f"workers done in {time.monotonic() - start:.0f} s")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from metalab.automl.metabase import MetaBase

    check(ExportOptions, args)
    base = MetaBase.from_storage(args.storage)
    info = {
        "exported": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "datasets": len(base),
        "configs_per_dataset": args.top,
        "note": args.note,
    }
    base.to_json(args.out, top=args.top, info=info)
    size = Path(args.out).stat().st_size
    crossed = f", {len(base.candidates)} cross-evaluated candidates" if base.candidates else ""
    print(f"wrote {len(base)} dataset(s), top {args.top} configs each{crossed}, to {args.out} "
          f"({size} bytes)")
    return 0


def run_cross(args: argparse.Namespace) -> int:
    from metalab.automl.metabase import load_metabase, store_cross
    from metalab.automl.portfolio import candidate_configs, cross_evaluate, with_cross_scores

    options = check(CrossOptions, args)
    base = load_metabase(args.metabase)
    candidates = candidate_configs(base, per_group=args.per_group)
    if args.add_candidates:
        other = load_metabase(args.add_candidates)
        tag = Path(args.add_candidates).stem
        candidates.update((f"{origin}@{tag}", pair) for origin, pair in
                          candidate_configs(other, per_group=args.add_per_group).items())
    files = [Path(args.scores), *map(Path, args.merge)]
    if not args.merge_only:
        datasets = _corpus(args)[options.shard_slice]
        cross_evaluate(base, datasets, args.scores, seed=args.seed, cv=args.cv,
                       per_fit_time_limit=args.per_fit_limit, max_rows=args.max_rows,
                       per_group=args.per_group, candidates=candidates,
                       log=lambda line: print(line, flush=True))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"no such score file(s): {missing}")
    if args.write:
        crossed = with_cross_scores(base, files, per_group=args.per_group, candidates=candidates)
        note = (base.info.get("note", "") + " | cross-evaluated "
                + datetime.now(timezone.utc).strftime("%Y-%m-%d") + ": " + args.note).strip(" |:")
        info = {**base.info, "candidates": len(crossed.candidates), "note": note}
        if args.write.endswith(".json") and "://" not in args.write:
            crossed.to_json(args.write, top=max((len(r.configs) for r in base.records), default=0),
                            info=info)
        else:
            store_cross(crossed, args.write)
        scored = sum(len(s) for s in crossed.cross_scores.values())
        print(f"wrote {args.write}: {len(crossed.candidates)} candidates, {scored} scores over "
              f"{len(crossed.cross_scores)} dataset(s)")
    return 0


def check_metabase_arg(text: str) -> None:
    """``--metabase`` names ``default``, ``none``, a database URL or an existing file."""
    from metalab.errors import MetabaseError

    if text.lower() in ("default", "none") or ("://" in text and not text.startswith("sqlite")):
        return
    path = Path(text.split(":///", 1)[-1]) if text.startswith("sqlite") else Path(text)
    if not path.is_file():
        raise MetabaseError(
            f"no such metabase file: {text!r}; give a metabase built with `metalab automl build-metabase` "
            "(its .db storage, or the .json of `metalab automl export-metabase`), or use --metabase default "
            "(the shipped one) or --metabase none (a cold start)", fields=("metabase",),
        )


def _report_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print the user-facing warnings caught during a command, one line each."""
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            print(f"metalab: warning: {warning.message}", file=sys.stderr)


def run_fit(args: argparse.Namespace) -> int:
    from metalab.automl.datasets import load_csv
    from metalab.automl.estimator import AutoClassifier
    from metalab.automl.saved import save_model

    check(FitOptions, args)
    check_metabase_arg(args.metabase)
    dataset = load_csv(args.csv, args.target, na_values=args.na_values, max_rows=args.max_rows)
    metabase = None if args.metabase.lower() == "none" else args.metabase
    model = AutoClassifier(time_budget=args.budget, metabase=metabase, seed=args.seed,
                           families=args.families, progress=not args.no_progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        model.fit(dataset.X, dataset.y)
    _report_warnings(caught)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    board = model.leaderboard()
    board.to_csv(out / "leaderboard.csv", index=False)
    save_model(model, out / "model.skops")
    run = {"command": sys.argv, "params": model.get_params(), "csv": str(args.csv),
           "target": args.target, "fit_seconds": model.fit_seconds_,
           "warmstart_datasets": model.warmstart_datasets_, "columns": model.columns_}
    (out / "run.json").write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    print(board.head(15).to_string(index=False))
    print(f"ensemble of {len(model.ensemble_members_)} model(s), validation balanced accuracy "
          f"{model.ensemble_score_:.4f}; fit took {model.fit_seconds_:.1f} s")
    print(f"saved {out / 'model.skops'} (predict with: metalab automl predict "
          f"{out / 'model.skops'} DATA.csv), {out / 'leaderboard.csv'}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from metalab.automl.datasets import load_features_csv
    from metalab.automl.saved import align_columns, load_model

    check(PredictOptions, args)
    model = load_model(args.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        frame = align_columns(
            load_features_csv(args.csv, na_values=args.na_values, max_rows=args.max_rows),
            model.columns_,
        )
        proba = model.predict_proba(frame)
    _report_warnings(caught)
    import pandas as pd

    table = pd.DataFrame({"prediction": model.classes_[proba.argmax(axis=1)]})
    if args.proba:
        for index, label in enumerate(model.classes_):
            table[f"proba:{label}"] = proba[:, index]
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} prediction(s) to {args.out}")
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def run_metafeatures(args: argparse.Namespace) -> int:
    from metalab.automl.datasets import load_csv
    from metalab.automl.metafeatures import compute_metafeatures

    dataset = load_csv(args.csv, args.target, na_values=args.na_values)
    for name, value in compute_metafeatures(dataset.X, dataset.y).items():
        print(f"{name:45s} {value:.6g}")
    return 0
