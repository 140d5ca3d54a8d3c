"""``metalab predict``: classify query images among new classes given by a support folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from metalab.errors import DataError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("predict", help="classify images among new classes", description=__doc__)
    parser.add_argument("--checkpoint", required=True, help="a checkpoint file or run folder")
    parser.add_argument("--support", required=True,
                        help="folder with one sub-folder per class (one image per class is enough)")
    parser.add_argument("--query", required=True, help="folder of images to classify")
    parser.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    parser.set_defaults(func=run)
    return parser


def predict_folders(checkpoint: str | Path, support: str | Path, query: str | Path) -> list[dict]:
    """``[{"query", "predicted", "probability"}]``, one per query image, sorted by file name."""
    from metalab.data.folder import image_files, image_folder, read_images
    from metalab.training.checkpoint import load_learner

    learner, preprocess, _ = load_learner(checkpoint)
    support_set = image_folder(support, preprocess)
    if support_set.num_classes < 2:
        raise DataError(f"{support} holds {support_set.num_classes} class folder; give at least 2 classes")
    query = Path(query)
    if not query.is_dir():
        raise DataError(f"query folder {query} does not exist or is not a folder")
    files = image_files(query)
    if not files:
        raise DataError(f"query folder {query} holds no images")
    labels = torch.repeat_interleave(torch.arange(support_set.num_classes), support_set.sizes)
    with torch.no_grad():
        task_model = learner.adapt(support_set.images, labels, support_set.num_classes)
        probabilities = task_model(read_images(files, preprocess)).softmax(-1)
    best, index = probabilities.max(-1)
    return [
        {"query": f.name, "predicted": support_set.class_names[i], "probability": round(float(p), 6)}
        for f, i, p in zip(files, index.tolist(), best)
    ]


def run(args: argparse.Namespace) -> int:
    predictions = predict_folders(args.checkpoint, args.support, args.query)
    if args.json:
        print(json.dumps(predictions))
    else:
        width = max(len(p["query"]) for p in predictions)
        for p in predictions:
            print(f"{p['query']:<{width}}  {p['predicted']}  ({100 * p['probability']:.1f}%)")
    return 0
