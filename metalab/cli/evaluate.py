"""``metalab eval RUN``: accuracy with a 95% CI over fixed, seeded episodes of unseen classes
(regression task families such as sinusoid: the query mean squared error with its CI)."""

from __future__ import annotations

import argparse
import json

import torch


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("eval", help="evaluate a trained run on fixed episodes", description=__doc__)
    parser.add_argument("run", help="run folder (its best.pt) or a checkpoint file")
    parser.add_argument("--ways", type=int, help="classes per task (default: the run's; not for regression)")
    parser.add_argument("--shots", type=int, required=True)
    parser.add_argument("--queries", type=int, default=15, help="queries per class (default 15)")
    parser.add_argument("--episodes", type=int, default=600, help="fixed episodes (default 600)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="part of the run's split to draw classes from (default test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fixed episodes (default 0)")
    parser.add_argument("--data", help="data folder (default: the run's, $METALAB_DATA, the cache)")
    parser.add_argument("--batch", type=int, default=8, help="episodes per forward pass")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--plot", metavar="PNG", help="regression: plot the adapted curves of the first fixed tasks")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from metalab.data.load import load_dataset
    from metalab.evaluation.evaluate import RegressionResult, evaluate
    from metalab.evaluation.paper import paper_figure
    from metalab.training.allocator import tune_allocator
    from metalab.training.checkpoint import load_learner
    from metalab.training.loop import resolve_device

    tune_allocator()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    learner, preprocess, state = load_learner(args.run, device)
    config = state["config"]
    dataset = load_dataset(
        config["dataset"], args.split, split=config["split"],
        data_dir=args.data or config.get("data_dir"), preprocess=preprocess,
    )
    ways = args.ways or config["ways"]
    result = evaluate(
        learner, dataset, ways=ways, shots=args.shots, queries=args.queries,
        episodes=args.episodes, seed=args.seed, batch=args.batch, device=device,
    )
    if isinstance(result, RegressionResult):
        return _report_regression(args, state, dataset, learner, result)
    args.ways = ways
    paper = paper_figure(state["algorithm"], config["dataset"], args.ways, args.shots)
    if args.json:
        print(json.dumps({
            "algorithm": state["algorithm"], "dataset": config["dataset"], "split": args.split,
            "ways": args.ways, "shots": args.shots, "queries": args.queries, "episodes": args.episodes,
            "accuracy": round(result.accuracy, 4), "ci95": round(result.ci95, 4),
            "seed": args.seed, "omniglot_split": config["split"] if config["dataset"] == "omniglot" else None,
            "checkpoint_step": state["step"], "paper": paper[0] if paper else None,
        }))
    else:
        print(f"{state['algorithm']} on {dataset.name}: {result}")
        if paper:
            print(f"paper: {paper[0]:.1f}% ({paper[1]}); difference {result.accuracy - paper[0]:+.2f} points")
    return 0


def _report_regression(args, state, family, learner, result) -> int:
    from metalab.evaluation.paper import paper_mse
    from metalab.evaluation.plots import plot_adapted_curves

    config = state["config"]
    paper = paper_mse(state["algorithm"], config["dataset"], args.shots)
    if args.plot:
        plot_adapted_curves(learner, family, shots=args.shots, seed=args.seed, path=args.plot,
                            title=f"{state['algorithm']} on {family.name}, {args.shots}-shot")
    if args.json:
        print(json.dumps({
            "algorithm": state["algorithm"], "dataset": config["dataset"], "split": args.split,
            "shots": args.shots, "queries": args.queries, "episodes": args.episodes,
            "mse": round(result.mse, 5), "ci95": round(result.ci95, 5), "seed": args.seed,
            "checkpoint_step": state["step"], "paper": paper[0] if paper else None,
        }))
    else:
        print(f"{state['algorithm']} on {family.name}: {result}")
        if paper:
            print(f"paper: MSE {paper[0]:.2f} ({paper[1]}); difference {result.mse - paper[0]:+.3f}")
        if args.plot:
            print(f"adapted curves: {args.plot}")
    return 0
