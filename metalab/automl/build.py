"""Fill a metabase: run a search on each dataset of a corpus and store it in an Optuna storage.

Each dataset becomes one study ``metalab:<name>`` (see :mod:`metalab.automl.metabase`). A worker
claims a dataset by creating its study (:mod:`metalab.automl.claims`); a dataset whose study
exists already (done, or being done by a live worker) is skipped, so any number of workers, on
one machine or several sharing a database URL, can run :func:`build_metabase` over the same
corpus at once. A study is marked ``complete`` when its search ends; an incomplete one is
ignored when the base is read, and one whose worker died (``kill -9``, a crash) is taken over
and redone by the next build, so a rerun after a crash completes the base.

Worker processes and their per-fit children ask the kernel to kill them when their parent
dies (:mod:`metalab.automl._processes`), so killing the build leaves no process behind.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import optuna

from ._processes import die_with_parent
from ._tabular import check_target, drop_empty_columns
from .claims import claim_study, heartbeat
from .datasets import TabularDataset
from .evaluate import make_folds
from .metabase import STUDY_PREFIX, open_storage
from .metafeatures import compute_metafeatures
from .search import make_sampler, run_search
from .space import check_families, cold_start_configs

__all__ = ["build_metabase", "build_metabase_parallel", "dataset_seed"]


def dataset_seed(seed: int, name: str) -> int:
    """The seed of one dataset's search (sampler and models): ``seed`` shifted by a hash of
    the dataset's name, so that the random start-up trials differ between datasets. The
    cross-evaluation reuses it, so a candidate is refit on its own dataset as the base was."""
    return (seed + zlib.crc32(name.encode())) % 2**31


def build_metabase(
    datasets: Sequence[TabularDataset],
    storage: str | os.PathLike[str],
    *,
    time_budget: float = 30.0,
    seed: int = 0,
    cv: int = 3,
    per_fit_time_limit: float | None = None,
    n_trials: int | None = None,
    families: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Search each dataset not yet in ``storage``; return the names this call added.

    Args:
        datasets: the corpus.
        storage: an SQLite file path or a database URL.
        time_budget: seconds of search per dataset (cold start, TPE, default config first).
        seed: seeds folds, sampler and models.
        cv: number of cross-validation folds.
        per_fit_time_limit: seconds per fold fit (default: a quarter of ``time_budget``).
        n_trials: also stop each search after this many trials.
        families: the model families searched (default: the default five); the default
            random forest starts each search only when ``random_forest`` is among them.
        log: where progress lines go.
    """
    rdb = open_storage(storage, create=True)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return _build(datasets, rdb, time_budget, seed, cv, per_fit_time_limit, n_trials,
                      check_families(families), log)
    finally:
        optuna.logging.set_verbosity(verbosity)


def _build(datasets: Sequence[TabularDataset], rdb: optuna.storages.RDBStorage,
           time_budget: float, seed: int, cv: int, per_fit_time_limit: float | None,
           n_trials: int | None, families: tuple[str, ...],
           log: Callable[[str], None]) -> list[str]:
    added = []
    for dataset in datasets:
        name = STUDY_PREFIX + dataset.name
        search_seed = dataset_seed(seed, dataset.name)
        # A live worker ends its search within the budget; no heartbeat for much longer
        # than that means a dead one (on another host; on this one its pid tells).
        study = claim_study(rdb, name, make_sampler("tpe", search_seed),
                            stale_after=2 * time_budget + 600,
                            log=lambda line, d=dataset.name: log(f"{d}: {line}"))
        if study is None:
            continue
        start = time.monotonic()
        X, _ = drop_empty_columns(dataset.X)
        classes, y = check_target(dataset.y, X.shape[0])
        metafeatures = compute_metafeatures(X, dataset.y, seed=seed)
        study.set_user_attr("metafeatures", metafeatures)
        study.set_user_attr("group", dataset.group)
        study.set_user_attr("shape", [int(X.shape[0]), int(X.shape[1])])
        result = run_search(
            X, y, make_folds(y, cv, seed), n_classes=len(classes), time_budget=time_budget,
            seed=search_seed, enqueue=cold_start_configs(families),
            per_fit_time_limit=per_fit_time_limit, n_trials=n_trials, keep_best=1, study=study,
            families=families, callbacks=[heartbeat],
        )
        study.set_user_attr("complete", True)
        trials = result.study.get_trials(deepcopy=False)
        ok = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = max((t.value for t in ok), default=float("nan"))
        log(
            f"{dataset.name}: {len(trials)} trials ({len(trials) - len(ok)} failed), "
            f"best balanced accuracy {best:.4f}, {time.monotonic() - start:.1f} s"
        )
        added.append(dataset.name)
    return added


def _worker(index: int, loader: Callable[[], Sequence[TabularDataset]], storage: str,
            kwargs: dict[str, Any], parent: int) -> None:
    die_with_parent(parent)
    datasets = list(loader())
    # Start each worker at a different place so they rarely race for the same dataset.
    offset = (index * len(datasets)) // max(kwargs.pop("n_workers"), 1)
    order = datasets[offset:] + datasets[:offset]
    build_metabase(order, storage, log=lambda line: print(f"[worker {index}] {line}", flush=True),
                   **kwargs)


def build_metabase_parallel(
    loader: Callable[[], Sequence[TabularDataset]],
    storage: str | os.PathLike[str],
    *,
    workers: int,
    **kwargs: Any,
) -> None:
    """Run ``workers`` processes of :func:`build_metabase` over the corpus ``loader`` returns.

    ``loader`` must be picklable (a module-level function or ``functools.partial``).
    """
    open_storage(storage, create=True)  # create the tables once, before the workers race
    context = mp.get_context("spawn")
    processes = [
        context.Process(target=_worker,
                        args=(i, loader, os.fspath(storage), {**kwargs, "n_workers": workers},
                              os.getpid()))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
