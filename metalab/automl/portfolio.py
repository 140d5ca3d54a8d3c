"""Cross-evaluated candidates and a neighbour portfolio: a stronger warm start.

A search stores, per dataset, the configurations *it* tried. The best configuration of one
dataset is often only the luckiest of many near-equal ones on that dataset's folds, and says
nothing about how it does elsewhere. Cross-evaluation fixes that: the best configuration of
up to two datasets of each group (the *candidates*; datasets of one group have alike best
configurations) is cross-validated on every dataset of the base, giving a candidates x
datasets matrix of balanced accuracies (a failed or slow fit scores 0).

The warm start then picks, for a new dataset, a *portfolio* of candidates for its ``k``
nearest datasets (the same L1 meta-feature distance as :mod:`metalab.automl.warmstart`):
greedily, the candidate that most raises the sum over the neighbours of the best normalised
score reached so far (Feurer et al. 2022, "Auto-Sklearn 2.0", section 4.1; Wistuba et al.
2015 for greedy portfolios), so the first trials cover the neighbours instead of repeating one
kind of model. A score is normalised per neighbour to (s - median) / (best - median), clipped
at 0, so that easy datasets (every candidate near 1.0) weigh as much as hard ones.

Under a time budget a pick costs time as well: a 256-tree forest can take six times as long
as a logistic regression, and a portfolio of slow candidates leaves a 10 s search few trials.
With ``cost_aware`` and a base that has the seconds of its cross-evaluation, the greedy step
divides each candidate's coverage gain by its relative cost on the neighbours (Streeter &
Golovin 2008, "An online algorithm for maximizing submodular functions": greedy by gain per
unit time is the near-optimal *anytime* order), so what covers the neighbours cheaply comes
first. It is ahead in the offline by-time simulation. In 10 s searches on KEEL it was level
with the coverage-first order on CV and on test (``results/automl/cost_aware_portfolio_2026-12-02``), so it is an option,
not the default.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metalab.errors import ConfigError

from ._tabular import check_target, drop_empty_columns
from .build import dataset_seed
from .datasets import TabularDataset
from .evaluate import evaluate_config, make_folds, stratified_sample
from .metabase import DatasetRecord, MetaBase
from .space import config_key
from .warmstart import nearest_datasets

__all__ = ["candidate_configs", "cross_evaluate", "portfolio_configs", "with_cross_scores"]


def candidate_configs(base: MetaBase, *, per_group: int = 2) -> dict[str, tuple[str, dict[str, Any]]]:
    """The best configuration of up to ``per_group`` datasets of each group of ``base``, no
    repeats: origin dataset -> (its group, configuration).

    Within a group (datasets of one origin, whose best configurations are alike) datasets
    whose best model family is not yet a candidate of the group come first, in base order.
    """
    seen: set[str] = set()
    candidates: dict[str, tuple[str, dict[str, Any]]] = {}
    by_group: dict[str, list[DatasetRecord]] = {}
    for record in base.records:
        if record.configs:
            by_group.setdefault(record.group, []).append(record)
    for group, records in by_group.items():
        chosen: list[DatasetRecord] = []
        for new_family_only in (True, False):
            for record in records:
                config = record.configs[0][1]
                families = {r.configs[0][1].get("classifier") for r in chosen}
                if (len(chosen) < per_group and config_key(config) not in seen
                        and not (new_family_only and config.get("classifier") in families)):
                    seen.add(config_key(config))
                    chosen.append(record)
        candidates.update((r.name, (group, dict(r.configs[0][1]))) for r in chosen)
    return candidates


def cross_evaluate(
    base: MetaBase,
    datasets: Sequence[TabularDataset],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    cv: int = 3,
    per_fit_time_limit: float = 5.0,
    max_rows: int | None = 1000,
    per_group: int = 2,
    candidates: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
    log: Callable[[str], None] = print,
) -> MetaBase:
    """Cross-validate every candidate of ``base`` on every dataset; return the base with them.

    Each (dataset, candidate) score is appended to the JSON-lines file ``out`` as it is done,
    so a killed run resumes where it stopped; several processes may each take a share of
    ``datasets`` with their own ``out`` and :func:`with_cross_scores` merges the files. The folds
    and model seeds are the ones the base's own search used (``metalab automl build-metabase``
    with the same ``seed`` and ``cv``), so a candidate's score on its own dataset is its score
    in the base (up to solver round-off). A fold fit longer than ``per_fit_time_limit`` seconds fails the candidate.
    A dataset with more than ``max_rows`` rows is cross-validated on a stratified sample of
    that many (the matrix ranks candidates; it need not be exact, and it must be affordable).
    The candidates are :func:`candidate_configs` with ``per_group`` unless ``candidates``
    (origin -> (group, configuration)) names them; a run with a larger ``per_group`` on a copy
    of a smaller one's ``out`` scores only the new candidates.
    """
    if candidates is None:
        candidates = candidate_configs(base, per_group=per_group)
    path = Path(out)
    done = set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done.add((row["dataset"], row["candidate"]))
    for dataset in datasets:
        todo = [(origin, config) for origin, (_, config) in candidates.items()
                if (dataset.name, origin) not in done]
        if not todo:
            continue
        start = time.monotonic()
        X, _ = drop_empty_columns(dataset.X)
        classes, y = check_target(dataset.y, X.shape[0])
        if max_rows is not None and len(y) > max_rows:
            rows = stratified_sample(y, max_rows, seed)
            X, y = X.iloc[rows].reset_index(drop=True), y[rows]
        folds = make_folds(y, cv, seed)
        search_seed = dataset_seed(seed, dataset.name)
        with open(path, "a", encoding="utf-8") as handle:
            for origin, config in todo:
                result = evaluate_config(config, X, y, folds, n_classes=len(classes),
                                         time_limit=per_fit_time_limit, seed=search_seed)
                row = {"dataset": dataset.name, "candidate": origin,
                       "score": round(result.score, 6) if result.ok else 0.0,
                       "status": result.status, "seconds": round(result.seconds, 3)}
                handle.write(json.dumps(row) + "\n")
                handle.flush()
        log(f"{dataset.name}: {len(todo)} candidates in {time.monotonic() - start:.1f} s")
    return with_cross_scores(base, [path], per_group=per_group, candidates=candidates)


def with_cross_scores(base: MetaBase, files: Iterable[str | os.PathLike[str]], *,
                      per_group: int = 2,
                      candidates: Mapping[str, tuple[str, dict[str, Any]]] | None = None) -> MetaBase:
    """``base`` with the candidates (:func:`candidate_configs` with ``per_group``, or the
    given ``candidates``) and their scores and seconds read from cross-evaluation files.

    Raises:
        ConfigError: a candidate has no score in any file (``per_group`` larger than the one
            the files were scored with): it would count as 0 everywhere.
    """
    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, dict[str, float]] = {}
    for file in files:
        for line in Path(file).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            scores.setdefault(row["dataset"], {})[row["candidate"]] = float(row["score"])
            if "seconds" in row:
                seconds.setdefault(row["dataset"], {})[row["candidate"]] = float(row["seconds"])
    if candidates is None:
        candidates = candidate_configs(base, per_group=per_group)
    scored = {origin for row in scores.values() for origin in row}
    unscored = [origin for origin in candidates if origin not in scored]
    if unscored and scores:
        raise ConfigError(
            f"{len(unscored)} of {len(candidates)} candidates have no score in the files "
            f"(first: {unscored[:3]}); --per-group {per_group} is larger than the one the scores "
            "were made with: pass that one, or score the new candidates first (cross-evaluate "
            "without --merge-only)"
        )
    return base.with_cross(candidates, scores, seconds)


def _normalised(scores: np.ndarray) -> np.ndarray:
    """Per column (dataset): (s - median) / (best - median), clipped to [0, 1]."""
    median = np.median(scores, axis=0)
    span = scores.max(axis=0) - median
    span = np.where(span > 0, span, 1.0)
    return np.clip((scores - median) / span, 0.0, 1.0)


def _relative_costs(base: MetaBase, origins: Sequence[str],
                    neighbours: Sequence[DatasetRecord]) -> np.ndarray | None:
    """Per candidate, the mean over the neighbours of its seconds divided by the median
    candidate's seconds on that neighbour (1 = a typical candidate); None without seconds."""
    columns = []
    for record in neighbours:
        seconds = base.cross_seconds.get(record.name, {})
        known = [seconds[o] for o in origins if o in seconds]
        if not known:
            continue
        median = float(np.median(known))
        if median <= 0:
            continue
        columns.append([seconds.get(o, median) / median for o in origins])
    if not columns:
        return None
    return np.maximum(np.array(columns).mean(axis=0), 1e-3)


def portfolio_configs(
    metafeatures: Mapping[str, float],
    base: MetaBase,
    *,
    size: int = 10,
    k: int = 10,
    exclude_groups: Iterable[str] = (),
    cost_aware: bool = False,
    families: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """A greedy portfolio of ``size`` cross-evaluated candidates for the ``k`` nearest datasets.

    Candidates from the excluded groups are left out as well as those groups' datasets (so a
    leave-one-group-out run never sees its own group). With ``cost_aware`` and a base that
    has cross-evaluation seconds, each step takes the largest coverage gain per relative cost;
    otherwise the largest gain. Once every neighbour is covered, the best mean score comes
    next. With ``families``, only candidates of those model families are picked. An empty
    list when ``base`` has no cross-evaluation.
    """
    excluded = set(exclude_groups)
    if not base.cross_scores:
        return []
    neighbours = [record for record, _ in nearest_datasets(
        metafeatures, base, k=len(base.records), exclude_groups=excluded)
        if record.name in base.cross_scores][:k]
    allowed = set(families) if families is not None else None
    origins = [o for o, (group, config) in base.candidates.items() if group not in excluded
               and (allowed is None or config.get("classifier") in allowed)]
    if not neighbours or not origins:
        return []
    matrix = np.array([[base.cross_scores[r.name].get(o, 0.0) for r in neighbours]
                       for o in origins])
    gain = _normalised(matrix)
    means = matrix.mean(axis=1)
    costs = _relative_costs(base, origins, neighbours) if cost_aware else None
    chosen: list[int] = []
    reached = np.zeros(len(neighbours))
    for _ in range(min(size, len(origins))):
        totals = np.maximum(gain, reached).sum(axis=1)
        if costs is not None:  # coverage gained per unit of time
            totals = (totals - reached.sum()) / costs
        # most coverage (per unit time) first; once every neighbour is covered, the best mean
        best = max((i for i in range(len(origins)) if i not in chosen),
                   key=lambda i: (round(totals[i], 9), means[i], -i))
        chosen.append(best)
        reached = np.maximum(reached, gain[best])
    return [dict(base.candidates[origins[i]][1]) for i in chosen]
