"""The AutoML headline figures of ``results/automl`` (part of ``results_headlines.py``'s list):
which report file each comes from and which function of ``results_index.py`` recomputes it."""

from __future__ import annotations

from typing import Any

AUTOML = "results/automl"
PORTFOLIO_FILES = [  # the order of the portfolio experiment's report command (later rows replace earlier)
    f"{AUTOML}/nearest_2026-12-01/logo_10s_shard0.jsonl", f"{AUTOML}/nearest_2026-12-01/logo_10s_shard1.jsonl",
    f"{AUTOML}/explore_after_warmstart_2026-12-01/logo_30s_shard0.jsonl",
    f"{AUTOML}/explore_after_warmstart_2026-12-01/logo_30s_shard1.jsonl",
    *[f"{AUTOML}/portfolio_2026-12-02/logo_{part}_shard{k}.jsonl"
      for part in ("split0_10s", "split0_30s", "split0_60s", "splits12_10s", "splits34_10s") for k in (0, 1)],
]
AUTOML_LABELS = {"warm": "(a) warm start (portfolio) + ensemble", "cold": "(b) cold start + ensemble",
                 "random": "(c) random search + ensemble", "flaml": "(d) FLAML zero-shot",
                 "sklearn": "(e) sklearn defaults"}


STATS = {"wins": "datasets won", "ties": "datasets tied", "losses": "datasets lost", "strict": "strict wins (%)",
         "p": "one-sided Wilcoxon p of the first > the second"}


def _automl_block(experiment: str, key: str, files: list[str], budgets: tuple[int, ...], what: str,
                  methods: list[str] | None = None, pairs: tuple[str, ...] = ("warm",),
                  listed: tuple[str, ...] | None = None,
                  method_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Mean rank and mean test balanced accuracy of each method, and each of ``pairs`` against
    the cold start, at each budget, as ``automl_logo.py report FILES [--methods ...]`` prints them
    (``listed``: the methods whose rank and score are headline figures; default all)."""
    methods_args = {"methods": methods} if methods else {}
    labels = {**AUTOML_LABELS, "warm-explore": "(a') warm start, 10 random trials, TPE + ensemble",
              "warm-cost": "(a''') cost-aware portfolio warm start + ensemble", **(method_labels or {})}
    entries = []
    for budget in budgets:
        for method in listed or methods or list(AUTOML_LABELS):
            for stat, decimals, among in (("rank", 2, f"mean rank among the {len(methods or AUTOML_LABELS)}"),
                                          ("score", 4, "mean test balanced accuracy")):
                entries.append({
                    "id": f"automl/{key}/{budget}s/{method}/{stat}", "area": "automl", "experiment": experiment,
                    "what": f"{labels[method]} at {budget} s per dataset: {among}, {what}",
                    "function": "automl_method",
                    "args": {"files": files, "budget": budget, "method": method, "stat": stat, **methods_args},
                    "decimals": decimals})
        for warm in pairs:
            for stat, decimals in (("wins", 0), ("ties", 0), ("losses", 0), ("strict", 0), ("p", 4)):
                warm_args = {"warm": warm} if warm != "warm" else {}
                entries.append({
                    "id": f"automl/{key}/{budget}s/{warm}_vs_cold/{stat}", "area": "automl", "experiment": experiment,
                    "what": f"{labels[warm].split(' ')[0]} vs (b) at {budget} s: {STATS[stat]}, {what}",
                    "function": "automl_warm_vs_cold",
                    "args": {"files": files, "budget": budget, "stat": stat, **warm_args, **methods_args},
                    "decimals": decimals})
    return entries


def automl_entries() -> list[dict[str, Any]]:
    portfolio = [entry for budget in (10, 30, 60) for entry in _automl_block(
        "automl/portfolio_2026-12-02", "portfolio", PORTFOLIO_FILES, (budget,),
        f"95 KEEL datasets ({'five split seeds' if budget == 10 else 'split seed 0'})")]
    nearest_files = [f"{AUTOML}/nearest_2026-12-01/{name}_shard{k}.jsonl"  # the report command's order
                     for name in ("logo_10s", "logo_30s", "logo_warm_10s", "logo_warm_30s", "logo_60s") for k in (0, 1)]
    explore_files = [f"{AUTOML}/explore_after_warmstart_2026-12-01/logo_{b}s_shard{k}.jsonl" for b in (10, 30)
                     for k in (0, 1)]
    svm_mlp = f"{AUTOML}/svm_mlp_2026-12-02"
    three_splits = [f"{AUTOML}/nearest_2026-12-01/logo_10s_shard{k}.jsonl" for k in (0, 1)] + [
        f"{AUTOML}/portfolio_2026-12-02/logo_{part}_10s_shard{k}.jsonl" for part in ("split0", "splits12") for k in (0, 1)]
    five = ["cold", "random", "flaml", "sklearn"]
    return [
        *portfolio,
        *_automl_block("automl/nearest_2026-12-01", "nearest", nearest_files, (10, 30, 60),
                       "nearest-datasets warm start, 95 KEEL datasets, split seed 0"),
        *_automl_block("automl/superseded_base_2026-11-22", "superseded_base",
                       [f"{AUTOML}/nearest_2026-12-01/logo_10s_shard{k}.jsonl" for k in (0, 1)], (10,),
                       "warm start from the base of 2026-11-22, 95 KEEL datasets"),
        *_automl_block("automl/superseded_partial_2026-11-22", "superseded_partial",
                       [f"{AUTOML}/superseded_partial_2026-11-22/logo_10s.jsonl"], (10,),
                       "68 KEEL datasets on a loaded core"),
        *_automl_block("automl/explore_after_warmstart_2026-12-01", "explore_after_warmstart", explore_files,
                       (10, 30), "95 KEEL datasets on the AMD EPYC", methods=["warm", "warm-explore", "cold"],
                       pairs=("warm", "warm-explore")),
        *[entry for families in ("five", "seven") for entry in _automl_block(
            "automl/svm_mlp_2026-12-02", f"svm_mlp/{families}",
            [f"{svm_mlp}/logo_{families}_10s_shard{k}.jsonl" for k in (0, 1)], (10,),
            f"{families} model families, split seeds 0 and 1, 95 KEEL datasets", methods=["warm", "cold", "sklearn"])],
        *_automl_block("automl/peers_2026-12-05", "peers",
                       [f"{AUTOML}/peers_2026-12-05/peers_10s_{seed}shard{k}.jsonl" for seed in ("", "seed1_", "seed2_")
                        for k in (0, 1)], (10,),
                       "against FLAML and AutoGluon-Tabular at the same budget, split seeds 0-2, 95 KEEL datasets",
                       methods=["warm", "cold", "flaml", "autogluon", "hgb"],
                       method_labels={"flaml": "(c) FLAML AutoML (full search)",
                                      "autogluon": "(d) AutoGluon-Tabular (medium_quality, tree models)",
                                      "hgb": "(e) HistGradientBoosting defaults"}),
        *_automl_block("automl/peers_2026-12-05", "peers",
                       [f"{AUTOML}/peers_2026-12-05/peers_{budget}s_{seed}shard{k}.jsonl" for budget in (10, 60)
                        for seed in ("", "seed1_", "seed2_") for k in (0, 1)], (60,),
                       "against FLAML and AutoGluon-Tabular at the same budget, split seeds 0-2, 95 KEEL datasets",
                       methods=["warm", "cold", "flaml", "autogluon", "hgb"],
                       method_labels={"flaml": "(c) FLAML AutoML (full search)",
                                      "autogluon": "(d) AutoGluon-Tabular (good_quality, tree models)",
                                      "hgb": "(e) HistGradientBoosting defaults"}),
        *_automl_block("automl/cost_aware_portfolio_2026-12-02", "cost_aware_portfolio",
                       three_splits + [f"{AUTOML}/cost_aware_portfolio_2026-12-02/logo_10s_shard{k}.jsonl" for k in (0, 1)],
                       (10,), "split seeds 0-2, 95 KEEL datasets", methods=["warm-cost", *five], pairs=("warm-cost",),
                       listed=("warm-cost",)),
        *_automl_block("automl/pool87_2026-12-02", "pool87",
                       three_splits + [f"{AUTOML}/pool87_2026-12-02/logo_10s_shard{k}.jsonl" for k in (0, 1)],
                       (10,), "warm start from 87 candidates, split seeds 0-2, 95 KEEL datasets", listed=("warm",)),
    ]
