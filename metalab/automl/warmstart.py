"""Warm start: the best configurations of the k most similar datasets in a metabase.

As in auto-sklearn (Feurer et al. 2015, section 3): each meta-feature is min-max scaled over
the base's datasets and the new one, the distance between two datasets is the L1 norm of the
difference of their scaled meta-feature vectors,

    d(a, b) = sum_j |s_j(m_j(a)) - s_j(m_j(b))|,   s_j(v) = (v - min_j) / (max_j - min_j),

and the best configurations of the ``k`` nearest datasets are enqueued as the first trials of
the new search. A meta-feature constant over the base contributes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .metabase import DatasetRecord, MetaBase
from .space import config_key

__all__ = ["nearest_datasets", "warmstart_configs"]


def nearest_datasets(
    metafeatures: Mapping[str, float],
    base: MetaBase,
    *,
    k: int = 10,
    exclude_groups: Iterable[str] = (),
) -> list[tuple[DatasetRecord, float]]:
    """The ``k`` datasets of ``base`` nearest to ``metafeatures``, nearest first.

    Only datasets with at least one successful configuration count. Ties are broken by name.

    Returns:
        (record, L1 distance) pairs.
    """
    excluded = set(exclude_groups)
    records = [r for r in base.records if r.group not in excluded and r.configs]
    if not records or k < 1:
        return []
    names = sorted(set(metafeatures).intersection(*(r.metafeatures for r in records)))
    table = np.array([[r.metafeatures[n] for n in names] for r in records], dtype=float)
    query = np.array([metafeatures[n] for n in names], dtype=float)
    every = np.vstack([table, query])
    low, high = every.min(axis=0), every.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    distances = np.abs((table - low) / span - (query - low) / span).sum(axis=1)
    order = sorted(range(len(records)), key=lambda i: (distances[i], records[i].name))
    return [(records[i], float(distances[i])) for i in order[:k]]


def warmstart_configs(
    metafeatures: Mapping[str, float],
    base: MetaBase,
    *,
    k: int = 10,
    per_dataset: int = 1,
    exclude_groups: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The best ``per_dataset`` configurations of each of the ``k`` nearest datasets.

    In order of distance, then of score; a configuration already listed is not repeated.
    """
    configs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record, _ in nearest_datasets(metafeatures, base, k=k, exclude_groups=exclude_groups):
        for _, config in record.configs[:per_dataset]:
            key = config_key(config)
            if key not in seen:
                seen.add(key)
                configs.append(dict(config))
    return configs
