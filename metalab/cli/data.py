"""``metalab data``: download Omniglot, or show where data is found and how the splits look."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("data", help="download or inspect datasets", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    download = actions.add_parser("download", help="fetch the official Omniglot zips and verify them")
    download.add_argument("name", choices=("omniglot",))
    download.add_argument("--to", help="destination folder (default: the cache, $METALAB_CACHE or ~/.cache/metalab)")
    download.set_defaults(func=run_download)
    info = actions.add_parser("info", help="where Omniglot is found and the size of each split")
    info.add_argument("--data", help="data folder to look in first")
    info.set_defaults(func=run_info)
    return parser


def run_download(args: argparse.Namespace) -> int:
    from metalab.data.omniglot import download_omniglot

    folder = download_omniglot(args.to)
    print(f"Omniglot verified and stored in {folder}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from metalab.data import splits
    from metalab.data.omniglot import find_omniglot

    print(f"Omniglot: {find_omniglot(args.data)}")
    for split in splits.SPLITS:
        sizes = ", ".join(f"{part} {len(splits.classes(split, part))}" for part in splits.PARTS)
        print(f"  split {split}: classes {sizes}")
    return 0
