"""``metalab demo``: the main job, end to end on Omniglot.

A short ProtoNet meta-training on the vinyals split, evaluation on unseen characters with
the 95% confidence interval beside the paper's figure, and ``predict`` on a few unseen
characters written out as PNG files in the official zips' form (dark ink on white, 105x105).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("demo", help="train, evaluate and predict on Omniglot", description=__doc__)
    parser.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    parser.add_argument("--budget", default="3m", help="training time (default 3m)")
    parser.add_argument("--episodes", type=int, default=600, help="test episodes per setting")
    parser.add_argument("--data", help="data folder (default: $METALAB_DATA, then the cache)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)
    return parser


def write_unseen_characters(folder: Path, data_dir: str | None, ways: int = 5, seed: int = 0,
                            queries: int = 1) -> dict[str, str]:
    """Write PNGs of ``ways`` test characters: one support drawing each, and ``queries`` query drawings each.

    Returns ``{query file name: true character}``.
    """
    from PIL import Image

    from metalab.data import splits
    from metalab.data.omniglot import SETS, load_set, metadata

    rng = np.random.default_rng(seed)
    test_chars = sorted({row for row, _ in splits.classes("vinyals", "test")})
    chosen = rng.choice(test_chars, size=ways, replace=False)
    first_eval = metadata()["sets"]["background"]["characters"]
    names = splits.character_names()
    truth = {}
    for i, row in enumerate(chosen):
        set_name, local = (SETS[0], row) if row < first_eval else (SETS[1], row - first_eval)
        drawings = load_set(set_name, data_dir)[local]
        support_drawer, *query_drawers = rng.choice(20, size=1 + queries, replace=False)
        label = names[row].replace("/", "_")
        (folder / "support" / label).mkdir(parents=True, exist_ok=True)
        (folder / "query").mkdir(parents=True, exist_ok=True)
        Image.fromarray(drawings[support_drawer]).save(folder / "support" / label / f"{support_drawer + 1:02d}.png")
        for j, query_drawer in enumerate(query_drawers):
            query = f"query_{i + 1}.png" if queries == 1 else f"query_{i + 1}_{j + 1}.png"
            Image.fromarray(drawings[query_drawer]).save(folder / "query" / query)
            truth[query] = label
    return truth


def run(args: argparse.Namespace) -> int:
    from metalab.evaluation.evaluate import evaluate
    from metalab.evaluation.predict import predict_folders
    from metalab.tasks.registry import load_tasks
    from metalab.training.checkpoint import load_learner
    from metalab.training.config import TrainConfig, parse_duration
    from metalab.training.loop import train

    config = TrainConfig(
        algorithm="protonet", dataset="omniglot", split="vinyals", data_dir=args.data,
        ways=20, shots=5, queries=15, budget=parse_duration(args.budget), lr=1e-3,
        schedule="cosine", val_every=250, val_episodes=100, val_ways=20, val_shots=1, out=args.out,
    )
    print(f"1/3 meta-training ProtoNet on Omniglot (vinyals split) for {args.budget} -> {args.out}")
    resume = (Path(args.out) / "last.pt").exists()  # a demo run again continues where it stopped
    result = train(config, resume=resume, progress=not args.no_progress, command=["metalab", "demo"])
    print(f"    {result.steps} meta-updates; best validation {result.best_val}")

    print(f"2/3 evaluating on the 423 unseen test characters ({args.episodes} fixed episodes each)")
    learner, preprocess, _ = load_learner(Path(args.out) / "best.pt")
    test_tasks = load_tasks("omniglot", "test", split="vinyals", data_dir=args.data, preprocess=preprocess)
    for ways, shots in ((5, 1), (5, 5), (20, 1), (20, 5)):
        result = evaluate(learner, test_tasks, ways=ways, shots=shots, queries=15, episodes=args.episodes, seed=0)
        print(f"    {ways:>2}-way {shots}-shot: {result.mean:6.2f}% ± {result.ci95:.2f}"
              f"   paper {result.paper:.1f}% ({result.paper_source})")

    folder = Path(args.out) / "unseen"
    truth = write_unseen_characters(folder, args.data)
    print(f"3/3 predicting {len(truth)} unseen characters from one drawing each ({folder})")
    predictions = predict_folders(Path(args.out) / "best.pt", folder / "support", folder / "query")
    for p in predictions:
        mark = "right" if p["predicted"] == truth[p["query"]] else f"wrong, is {truth[p['query']]}"
        print(f"    {p['query']}: {p['predicted']} ({100 * p['probability']:.1f}%) {mark}")
    print(f"    same with: metalab predict --checkpoint {args.out}/best.pt --support {folder}/support --query {folder}/query")
    return 0
