"""The results page: one static HTML file from the results folder, readable without a server.

Layout read (any depth): ``results/<area>/<experiment>/`` holds ``README.md`` (question,
setup, tables with 95% CIs beside the paper figures, command), ``meta.json`` (date, machine,
commit, commands, budget), figures (``*.png``) and raw rows (``*.json``, ``*.jsonl``, ...);
``results/<area>/README.md`` is the area's narrative and ``results/index.json`` lists the
headline figures as ``{area, experiment, name, value, ci, paper, source}``. Every folder with
a ``README.md`` or ``meta.json`` is rendered; figures are copied beside the page, other
relative links point back into the results folder.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from metalab.errors import DataError

SCREENSHOT = "report_screenshot.png"  # the page's own picture in the results folder, not one of its figures
RAW_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".txt")
INDEX_COLUMNS = ("area", "experiment", "name", "value", "ci", "paper", "source")


@dataclasses.dataclass(frozen=True)
class Section:
    """One folder of the results: the overview (``path == ""``), an area or an experiment."""

    path: str  # relative to the results folder, "/"-separated
    readme: str | None
    meta: dict[str, Any] | None
    figures: tuple[Path, ...]
    raw: tuple[Path, ...]

    @property
    def anchor(self) -> str:
        return "results-" + re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-") if self.path else "overview"

    @property
    def depth(self) -> int:
        return self.path.count("/") + 1 if self.path else 0


def find_sections(results: Path) -> list[Section]:
    """Every folder under ``results`` with a ``README.md`` or ``meta.json``, sorted by path
    (so an area's narrative comes before its experiments)."""
    results = Path(results)
    if not results.is_dir():
        raise DataError(f"results folder {str(results)!r} not found: give --results the folder of "
                        "<area>/<experiment>/ results")
    folders = {p.parent for name in ("README.md", "meta.json") for p in results.glob(f"**/{name}")}
    sections = []
    for folder in sorted(folders, key=lambda f: f.relative_to(results).parts):
        readme = folder / "README.md"
        meta_path = folder / "meta.json"
        meta = None
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text())
            except json.JSONDecodeError as error:
                raise DataError(f"{meta_path} is not valid JSON ({error}); fix or remove it") from error
        files = sorted(p for p in folder.iterdir() if p.is_file())
        sections.append(Section(
            path=folder.relative_to(results).as_posix() if folder != results else "",
            readme=readme.read_text() if readme.is_file() else None,
            meta=meta if isinstance(meta, dict) else None,
            figures=tuple(p for p in files if p.suffix.lower() == ".png" and p.name != SCREENSHOT),
            raw=tuple(p for p in files if p.suffix.lower() in RAW_SUFFIXES and p.name != "meta.json"),
        ))
    return sections


def read_index(results: Path) -> list[dict[str, Any]]:
    """``results/index.json``'s entries ([] if there is none)."""
    path = Path(results) / "index.json"
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error})") from error
    if isinstance(entries, dict):
        entries = entries.get("figures", entries.get("entries"))
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DataError(f"{path} must be a list (or an object whose \"figures\" is a list) of objects with keys "
                        f"{', '.join(INDEX_COLUMNS)}")
    return [_normalised(entry) for entry in entries]


def _normalised(entry: dict[str, Any]) -> dict[str, Any]:
    """An index entry in the page's columns. The index that ``benchmarks/results_index.py``
    writes names a figure ``what``, its interval ``ci95``, its raw files ``sources`` (paths from
    the project root), its experiment ``area/experiment`` and its paper figure ``{value, source}``."""
    area = str(entry.get("area", ""))
    experiment = str(entry.get("experiment", ""))
    if area and experiment.startswith(area + "/"):
        experiment = experiment[len(area) + 1:]
    source = entry.get("source") or next(iter(entry.get("sources") or []), None)
    if isinstance(source, str) and source.startswith("results/"):
        source = source[len("results/"):]
    paper = entry.get("paper")
    if isinstance(paper, dict):
        paper = f"{paper.get('value')} ({paper.get('source')})"
    return {**entry, "area": area, "experiment": experiment, "name": entry.get("name", entry.get("what")),
            "ci": entry.get("ci", entry.get("ci95")), "paper": paper, "source": source}


def _markdown(text: str) -> str:
    try:
        import markdown
    except ImportError as error:
        raise ImportError("the results page needs the markdown package: pip install 'metalab[results]'") from error
    return markdown.markdown(text, extensions=["tables", "fenced_code"], output_format="html")


class _Links:
    """Rewrites a section's relative links: figures to their copies beside the page, a folder's
    README to its section on the page, anything else back into the results folder."""

    def __init__(self, out: Path, figures: dict[Path, str], anchors: dict[Path, str]) -> None:
        self.out, self.figures, self.anchors = out.resolve(), figures, anchors

    def rewrite(self, markup: str, folder: Path) -> str:
        def replace(match: re.Match[str]) -> str:
            attribute, target = match.group(1), html.unescape(match.group(2))
            if re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target, re.I):
                return match.group(0)
            path_part, _, fragment = target.partition("#")
            resolved = (folder / unquote(path_part)).resolve()
            if resolved in self.figures:
                new = self.figures[resolved]
            elif resolved in self.anchors or (resolved.name == "README.md" and resolved.parent in self.anchors):
                new = "#" + self.anchors.get(resolved, self.anchors.get(resolved.parent, ""))
            else:
                new = _href(resolved, self.out) + (f"#{fragment}" if fragment else "")
            return f'{attribute}="{html.escape(new)}"'

        return re.sub(r'\b(src|href)="([^"]*)"', replace, markup)


def _href(path: Path, out: Path) -> str:
    """The URL of ``path`` relative to the page's folder ``out`` (both resolved)."""
    return quote(Path(os.path.relpath(path, out)).as_posix())


def _shift_headings(markup: str, by: int) -> str:
    return re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + by)}", markup)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "; ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


def _meta_html(meta: dict[str, Any]) -> str:
    rows = []
    for key, value in meta.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and "command" in key:
            cell = "".join(f"<pre><code>{html.escape(v)}</code></pre>" for v in value)
        else:
            cell = html.escape(_value(value))
        rows.append(f"<tr><th>{html.escape(str(key))}</th><td>{cell}</td></tr>")
    return f'<table class="meta">{"".join(rows)}</table>'


def _index_html(entries: list[dict[str, Any]], links: _Links, results: Path, anchors: dict[Path, str]) -> str:
    head = "".join(f"<th>{c}</th>" for c in ("area", "experiment", "figure", "value ± 95% CI", "paper", "source"))
    rows = []
    for entry in entries:
        value = _value(entry.get("value"))
        if entry.get("ci") is not None:
            value += f" ± {_value(entry.get('ci'))}"
        experiment = html.escape(str(entry.get("experiment", "")))
        folder = (results / str(entry.get("area", "")) / str(entry.get("experiment", ""))).resolve()
        if folder in anchors:
            experiment = f'<a href="#{anchors[folder]}">{experiment}</a>'
        source = entry.get("source")
        if source:
            target = (results / str(source)).resolve()
            source_cell = f'<a href="{html.escape(_href(target, links.out))}">{html.escape(str(source))}</a>'
        else:
            source_cell = ""
        cells = [html.escape(str(entry.get("area", ""))), experiment, html.escape(_value(entry.get("name"))),
                 html.escape(value), html.escape(_value(entry.get("paper"))), source_cell]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="index"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
thead th, table.meta th { background: #f0f0f0; }
table.meta { table-layout: fixed; width: 100%; }
table.meta th { width: 7rem; }
table.meta td { overflow-wrap: anywhere; }
table.meta pre { white-space: pre-wrap; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figure { display: inline-block; margin: 0.5rem; max-width: 46%; vertical-align: top; }
figcaption { font-size: 0.85rem; color: #555; }
pre { background: #f6f6f6; padding: 0.4rem; overflow-x: auto; margin: 0.2rem 0; }
section.experiment { border-top: 2px solid #ccc; margin-top: 2rem; }
nav li { margin: 0.1rem 0; }
.raw { font-size: 0.85rem; }
"""


def render_site(results: str | Path = "results", out: str | Path = "site") -> Path:
    """Write ``out/index.html`` (and ``out/figures/``) from the results folder; return the page."""
    results, out = Path(results), Path(out)
    sections = find_sections(results)
    entries = read_index(results)
    out.mkdir(parents=True, exist_ok=True)
    figures_dir = out / "figures"
    if figures_dir.exists():
        shutil.rmtree(figures_dir)
    figures: dict[Path, str] = {}
    for section in sections:
        for figure in section.figures:
            copy = figures_dir / section.path / figure.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(figure, copy)
            figures[figure.resolve()] = quote(copy.relative_to(out).as_posix())
    anchors = {(results / s.path).resolve(): s.anchor for s in sections}
    links = _Links(out, figures, anchors)

    body = []
    if entries:
        body.append(f'<section id="headline"><h2>Headline figures</h2>'
                    f"{_index_html(entries, links, results, anchors)}</section>")
    for section in sections:
        body.append(_section_html(section, results, links))
    toc = '<li><a href="#headline">headline figures</a></li>' if entries else ""
    toc += _toc(sections)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>metalab results</title><style>{_STYLE}</style></head><body>"
        "<h1>metalab results</h1>"
        f"<p>Generated from <code>{html.escape(str(results))}</code>: every table gives means with 95% "
        "confidence intervals, beside the published figure where there is one.</p>"
        f"<nav><ul>{toc}</ul></nav>"
        + "".join(body) + "</body></html>\n"
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def find_chromium() -> str | None:
    """The headless browser used to check and photograph the page (Debian's ``chromium``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(page: str | Path, png: str | Path, *, width: int = 1200, height: int = 2200) -> Path:
    """Photograph ``page`` in headless Chromium (the top ``width`` x ``height`` pixels) into ``png``."""
    browser = find_chromium()
    if browser is None:
        raise DataError("a screenshot needs chromium on the PATH: apt-get install chromium")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={width},{height}", f"--screenshot={png}", Path(page).resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=png.parent)
    if done.returncode != 0 or not png.is_file():
        raise DataError(f"chromium could not photograph {page} (exit {done.returncode}): "
                        f"{done.stderr.strip()[-500:]}")
    return png


def _toc(sections: list[Section]) -> str:
    """One line per area: the area, then its experiments."""
    areas: dict[str, list[Section]] = {}
    for section in sections:
        areas.setdefault(section.path.split("/")[0], []).append(section)
    lines = []
    for area, members in areas.items():
        head = next((s for s in members if s.path == area), None)
        label = html.escape(area or "overview")
        title = f'<a href="#{head.anchor}"><b>{label}</b></a>' if head else f"<b>{label}</b>"
        rest = " · ".join(f'<a href="#{s.anchor}">{html.escape(s.path.split("/", 1)[1])}</a>'
                          for s in members if s is not head)
        lines.append(f"<li>{title}{': ' + rest if rest else ''}</li>")
    return "".join(lines)


def _section_html(section: Section, results: Path, links: _Links) -> str:
    folder = (results / section.path).resolve()
    parts = [f'<section class="experiment" id="{section.anchor}"><h2>{html.escape(section.path or "overview")}</h2>']
    shown: set[str] = set()
    if section.readme is not None:
        markup = links.rewrite(_shift_headings(_markdown(section.readme), 2), folder)
        shown = set(re.findall(r'<img [^>]*src="([^"]*)"', markup))
        parts.append(markup)
    if section.meta:
        parts.append(f"<details open><summary>meta.json</summary>{_meta_html(section.meta)}</details>")
    gallery = [f for f in section.figures if links.figures[f.resolve()] not in shown]
    if gallery:
        parts.append('<div class="figures">' + "".join(
            f'<figure><img src="{html.escape(links.figures[f.resolve()])}" alt="{html.escape(f.stem)}">'
            f"<figcaption>{html.escape(f.name)}</figcaption></figure>" for f in gallery) + "</div>")
    if section.raw:
        items = ", ".join(
            f'<a href="{html.escape(_href(p.resolve(), links.out))}">{html.escape(p.name)}</a>'
            for p in section.raw)
        parts.append(f'<p class="raw">Raw data: {items}</p>')
    parts.append("</section>")
    return "".join(parts)
