"""``metalab predict``: classify query images among new classes given by a support folder."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("predict", help="classify images among new classes", description=__doc__)
    parser.add_argument("--checkpoint", required=True, help="a checkpoint file or run folder")
    parser.add_argument("--support", required=True,
                        help="folder with one sub-folder per class (one image per class is enough)")
    parser.add_argument("--query", required=True, help="folder of images to classify")
    parser.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from metalab.evaluation.predict import predict_folders

    predictions = predict_folders(args.checkpoint, args.support, args.query)
    if args.json:
        print(json.dumps(predictions))
    else:
        width = max(len(p["query"]) for p in predictions)
        for p in predictions:
            print(f"{p['query']:<{width}}  {p['predicted']}  ({100 * p['probability']:.1f}%)")
    return 0
