"""``metalab report``: write the results page, a static ``index.html`` (no server, no
JavaScript), from the results folder: the headline figures of ``results/index.json``, and for
every area and experiment its README (tables with 95% CIs beside the paper figures), its
``meta.json`` (date, machine, commit, commands), its figures and links to its raw rows."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("report", help="write the static results page (site/index.html)",
                                   description=__doc__)
    parser.add_argument("--results", default="results", help="results folder (default results)")
    parser.add_argument("--out", default="site", help="folder of the page (default site)")
    parser.add_argument("--screenshot", metavar="PNG", help="also photograph the page in headless Chromium "
                        "(e.g. results/report_screenshot.png)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from metalab.evaluation.report import find_sections, read_index, render_site, screenshot

    page = render_site(args.results, args.out)
    sections, entries = find_sections(args.results), read_index(args.results)
    markup = page.read_text(encoding="utf-8")
    print(f"wrote {page}: {len(sections)} results folders, {len(entries)} headline figures, "
          f"{markup.count('<table')} tables, {markup.count('<img ')} images; open it in a browser")
    if args.screenshot:
        print(f"screenshot: {screenshot(page, args.screenshot)}")
    return 0
