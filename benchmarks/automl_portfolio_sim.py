"""Offline comparison of warm-start choices on a cross-evaluated metabase (issue 5).

For each dataset of the base, leave its group out, let a strategy pick the first ``size``
configurations from the remaining base, and read their cross-validated scores on the held-out
dataset from the cross-evaluation matrix (no model is fitted here). Reported per strategy and
per number of trials j: the mean regret of the best of the first j picks (the best candidate's
score on that dataset minus the best picked one), and the share of datasets whose best pick is
within 0.01 of that best. When the base has the seconds of its cross-evaluation, a second
table gives the same at t seconds: the best of the picks whose cross-validations, run one after
the other on the held-out dataset, have all finished by t (before the first one finishes, the
dataset's median candidate stands in). Strategies:

  portfolio-K   metalab.automl.portfolio.portfolio_configs with the K nearest datasets
                (the largest coverage first, whatever it costs)
  cost-K        the same with cost_aware=True (the most coverage per second first), when
                the base has the seconds of its cross-evaluation
  nearest       candidates from the nearest datasets, nearest first (auto-sklearn 1's idea,
                restricted to the cross-evaluated candidates so that it can be scored)
  random        candidates in a random order (mean of 20 orders)
  pool-K        with --pool OTHER: portfolio-K restricted to the candidates of OTHER (a base
                whose candidates are a subset of this one's, e.g. a smaller --per-group), so
                that a smaller and a larger candidate pool are scored against the same best

    python benchmarks/automl_portfolio_sim.py --metabase metalab/automl/default_metabase.json
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from metalab.automl import load_metabase
from metalab.automl.portfolio import portfolio_configs
from metalab.automl.space import config_key
from metalab.automl.warmstart import nearest_datasets


def _picks_scores(picks: list[dict], origin_of: dict[str, str], row: dict[str, float]) -> np.ndarray:
    return np.array([row.get(origin_of[config_key(c)], 0.0) for c in picks])


def _regret_at(times: np.ndarray, picks: list[dict], origin_of: dict[str, str], row: dict[str, float],
               seconds: dict[str, float], best: float) -> np.ndarray:
    """Regret of the best pick finished by each of ``times``, the picks run one after another."""
    origins = [origin_of[config_key(c)] for c in picks]
    finished = np.cumsum([seconds.get(o, 0.0) for o in origins])
    reached = np.maximum.accumulate([row.get(o, 0.0) for o in origins])
    done = np.searchsorted(finished, times, side="right")
    fallback = float(np.median(list(row.values())))
    return best - np.where(done > 0, reached[np.maximum(done - 1, 0)], fallback)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metabase", default="default")
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--neighbours", type=int, nargs="+", default=[5, 10, 20, 40, 1000])
    parser.add_argument("--pool", help="a base whose candidates (a subset) restrict pool-K")
    parser.add_argument("--times", type=float, nargs="+", default=[1, 2, 3, 5, 8],
                        help="seconds at which the second table reads the regret")
    args = parser.parse_args(argv)
    base = load_metabase(args.metabase)
    pool = set(load_metabase(args.pool).candidates) if args.pool else set()
    if pool - set(base.candidates):
        raise SystemExit(f"--pool has candidates that {args.metabase} lacks: {sorted(pool - set(base.candidates))[:5]}")
    origin_of = {config_key(c): o for o, (_, c) in base.candidates.items()}
    results: dict[str, list[np.ndarray]] = {}
    timed: dict[str, list[np.ndarray]] = {}
    times = np.array(args.times, dtype=float)
    variants = [("portfolio", False)] + ([("cost", True)] if base.cross_seconds else [])
    for record in base.records:
        row = base.cross_scores.get(record.name)
        if not row:
            continue
        held_out = base.without_groups([record.group])
        best = max(row[o] for o in held_out.candidates if o in row)

        def regret(picks: np.ndarray) -> np.ndarray:
            padded = np.concatenate([picks, np.full(args.size - len(picks), picks[-1] if len(picks) else 0.0)])
            return best - np.maximum.accumulate(padded)

        smaller = held_out.with_cross({o: c for o, c in held_out.candidates.items() if o in pool},
                                      held_out.cross_scores, held_out.cross_seconds) if pool else None
        seconds = base.cross_seconds.get(record.name)
        for k in args.neighbours:
            for name, cost_aware in variants:
                picks = portfolio_configs(record.metafeatures, held_out, size=args.size, k=k,
                                          cost_aware=cost_aware)
                results.setdefault(f"{name}-{k}", []).append(regret(_picks_scores(picks, origin_of, row)))
                if seconds:
                    timed.setdefault(f"{name}-{k}", []).append(
                        _regret_at(times, picks, origin_of, row, seconds, best))
            if smaller is not None:
                picks = portfolio_configs(record.metafeatures, smaller, size=args.size, k=k)
                results.setdefault(f"pool-{k}", []).append(regret(_picks_scores(picks, origin_of, row)))
        near = [r.name for r, _ in nearest_datasets(record.metafeatures, held_out, k=len(held_out))]
        picks = [held_out.candidates[n][1] for n in near if n in held_out.candidates][: args.size]
        results.setdefault("nearest", []).append(regret(_picks_scores(picks, origin_of, row)))
        if seconds:
            timed.setdefault("nearest", []).append(_regret_at(times, picks, origin_of, row, seconds, best))
        rng = np.random.default_rng(0)
        origins = list(held_out.candidates)
        runs = [regret(np.array([row.get(origins[i], 0.0) for i in rng.permutation(len(origins))[: args.size]]))
                for _ in range(20)]
        results.setdefault("random", []).append(np.mean(runs, axis=0))
    print(f"{len(results['random'])} held-out datasets; mean regret (share within 0.01) of the "
          f"best of the first j picks")
    header = "strategy        " + "".join(f"{j:>14d}" for j in (1, 2, 3, 5, args.size))
    print(header)
    for name, rows in results.items():
        table = np.array(rows)
        cells = "".join(f"{table[:, j - 1].mean():>8.4f} ({(table[:, j - 1] <= 0.01).mean():.2f})"
                        for j in (1, 2, 3, 5, args.size))
        print(f"{name:16s}{cells}")
    if timed:
        print("\nmean regret (share within 0.01) of the best pick finished by t seconds")
        print("strategy        " + "".join(f"{f'{t:g} s':>14s}" for t in times))
        for name, rows in timed.items():
            table = np.array(rows)
            cells = "".join(f"{table[:, j].mean():>8.4f} ({(table[:, j] <= 0.01).mean():.2f})"
                            for j in range(len(times)))
            print(f"{name:16s}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
