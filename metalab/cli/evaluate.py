"""``metalab eval RUN``: accuracy with a 95% CI over fixed, seeded episodes of unseen classes."""

from __future__ import annotations

import argparse
import json

import torch


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("eval", help="evaluate a trained run on fixed episodes", description=__doc__)
    parser.add_argument("run", help="run folder (its best.pt) or a checkpoint file")
    parser.add_argument("--ways", type=int, required=True)
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
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from metalab.data.load import load_dataset
    from metalab.evaluation.evaluate import evaluate
    from metalab.evaluation.paper import paper_figure
    from metalab.training.checkpoint import load_learner
    from metalab.training.loop import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    learner, preprocess, state = load_learner(args.run, device)
    config = state["config"]
    dataset = load_dataset(
        config["dataset"], args.split, split=config["split"],
        data_dir=args.data or config.get("data_dir"), preprocess=preprocess,
    )
    result = evaluate(
        learner, dataset, ways=args.ways, shots=args.shots, queries=args.queries,
        episodes=args.episodes, seed=args.seed, batch=args.batch, device=device,
    )
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
