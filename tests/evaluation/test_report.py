"""The results page, rendered from small fixture results folders: every table, figure and
link present and resolving; and, in headless Chromium when installed, every image loaded."""

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from metalab.cli import main
from metalab.errors import DataError
from metalab.evaluation.report import find_chromium, read_index, render_site

PROTONET_README = """# ProtoNet on Omniglot

**Question.** How close to the paper?

| setting | metalab (95% CI) | paper |
|---|---|---|
| 5-way 1-shot | 99.08 ± 0.16 | 98.8 |
| 20-way 1-shot | 96.71 ± 0.18 | 96.0 |

![learning curve](curve.png)

Raw rows: [eval_5w1s.json](eval_5w1s.json); the area: [omniglot](../README.md).
"""

AREA_README = """# Omniglot

| method | 5-way 1-shot |
|---|---|
| ProtoNet | 99.08 ± 0.16 |

Details: [ProtoNet](protonet/README.md).
"""

SINUSOID_README = """# MAML on sinusoids

| shots | mse (95% CI) | paper |
|---|---|---|
| 5 | 0.50 ± 0.03 | 0.50 |

| steps | mse |
|---|---|
| 1 | 0.9 |
| 10 | 0.5 |

```bash
metalab eval runs/maml --shots 5
```
"""

INDEX = [
    {"area": "omniglot", "experiment": "protonet", "name": "5-way 1-shot accuracy", "value": 99.08, "ci": 0.16,
     "paper": 98.8, "source": "omniglot/protonet/eval_5w1s.json"},
    {"area": "sinusoid", "experiment": "maml", "name": "5-shot mse", "value": 0.5, "ci": 0.03, "paper": None,
     "source": "sinusoid/maml/eval.json"},
]


def _png(path, color):
    Image.new("RGB", (40, 30), color).save(path)


@pytest.fixture()
def results(tmp_path):
    root = tmp_path / "results"
    protonet, maml, rank = root / "omniglot" / "protonet", root / "sinusoid" / "maml", root / "automl" / "rank"
    for folder in (protonet, maml, rank):
        folder.mkdir(parents=True)
    (root / "omniglot" / "README.md").write_text(AREA_README)
    (protonet / "README.md").write_text(PROTONET_README)
    (maml / "README.md").write_text(SINUSOID_README)
    for folder, commit in ((protonet, "abc1234"), (maml, "def5678"), (rank, "0123abc")):
        (folder / "meta.json").write_text(json.dumps({"date": "2026-12-01", "commit": commit,
                                                      "machine": {"cpu": "test", "cores": 2},
                                                      "commands": [f"metalab eval {folder.name}"]}))
    _png(protonet / "curve.png", "red")
    _png(protonet / "adapted.png", "green")  # not referenced by the README: shown below it
    _png(maml / "fit.png", "blue")
    _png(rank / "rank over time.png", "black")  # a folder with meta.json and no README; a space in a name
    (protonet / "eval_5w1s.json").write_text('{"accuracy": 99.08}')
    (maml / "eval.json").write_text('{"mse": 0.5}')
    (root / "index.json").write_text(json.dumps(INDEX))
    return root


class _Page(HTMLParser):
    """Tables (as rows of cell texts), image sources, links and ids of a page."""

    def __init__(self):
        super().__init__()
        self.tables, self.images, self.links, self.ids, self.scripts = [], [], [], set(), 0
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None


def _markdown_tables(text):
    """The tables of a markdown text as rows of cell texts (the separator row dropped)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line.strip()):
                current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def _parse(page):
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_readme_table_is_on_the_page_with_its_cis_and_paper_figures(results, tmp_path):
    page = render_site(results, tmp_path / "site")
    parsed = _parse(page)
    expected = [t for readme in results.glob("**/README.md") for t in _markdown_tables(readme.read_text())]
    assert len(expected) == 4
    for table in expected:
        assert table in parsed.tables
    assert parsed.scripts == 0  # a static page


def test_every_figure_is_shown_and_resolves_to_a_copy_of_itself(results, tmp_path):
    site = tmp_path / "site"
    parsed = _parse(render_site(results, site))
    shown = {(site / unquote(src)).resolve(): src for src in parsed.images}
    assert all(path.is_file() for path in shown)
    pngs = sorted(results.glob("**/*.png"))
    assert len(pngs) == 4 and len(parsed.images) == 4  # each once: inline or in the gallery
    shown_bytes = sorted(path.read_bytes() for path in shown)
    assert shown_bytes == sorted(png.read_bytes() for png in pngs)


def test_headline_table_lists_each_index_entry_with_its_ci_paper_and_source(results, tmp_path):
    site = tmp_path / "site"
    parsed = _parse(render_site(results, site))
    headline = parsed.tables[0]
    assert headline[0] == ["area", "experiment", "figure", "value ± 95% CI", "paper", "source"]
    assert headline[1:] == [
        ["omniglot", "protonet", "5-way 1-shot accuracy", "99.08 ± 0.16", "98.8",
         "omniglot/protonet/eval_5w1s.json"],
        ["sinusoid", "maml", "5-shot mse", "0.5 ± 0.03", "", "sinusoid/maml/eval.json"],
    ]


def test_every_link_resolves_to_a_file_or_a_section_of_the_page(results, tmp_path):
    site = tmp_path / "site"
    parsed = _parse(render_site(results, site))
    for href in parsed.links:
        if href.startswith("#"):
            assert href[1:] in parsed.ids, href
        else:
            assert (site / unquote(href)).resolve().is_file(), href
    # the README's links between folders become links within the page
    assert "#results-omniglot" in parsed.links and "#results-omniglot-protonet" in parsed.links


def test_the_page_screenshot_in_the_results_folder_is_not_one_of_its_figures(results, tmp_path):
    (results / "README.md").write_text("# Results\n\n![the page](report_screenshot.png)\n")
    _png(results / "report_screenshot.png", "white")
    parsed = _parse(render_site(results, tmp_path / "site"))
    assert len(parsed.images) == 5  # the four figures, and the screenshot only where the README shows it


def test_report_command_writes_the_page(results, tmp_path, capsys):
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "site")]) == 0
    out = capsys.readouterr().out
    assert "4 results folders, 2 headline figures" in out and "4 images" in out
    assert (tmp_path / "site" / "index.html").is_file()


def test_without_index_the_page_still_renders_every_folder(results, tmp_path):
    (results / "index.json").unlink()
    parsed = _parse(render_site(results, tmp_path / "site"))
    sections = {"results-omniglot", "results-omniglot-protonet", "results-sinusoid-maml", "results-automl-rank"}
    assert sections <= parsed.ids
    assert "headline" not in parsed.ids


def test_bad_results_are_clear_errors(results, tmp_path):
    with pytest.raises(DataError, match="results folder .* not found"):
        render_site(tmp_path / "missing", tmp_path / "site")
    (results / "index.json").write_text('{"value": 1}')
    with pytest.raises(DataError, match=r"must be a list \(or an object whose \"figures\" is a list\) of objects with keys area, experiment"):
        render_site(results, tmp_path / "site")
    (results / "index.json").write_text("[")
    with pytest.raises(DataError, match="index.json is not valid JSON"):
        render_site(results, tmp_path / "site")


def test_page_renders_in_headless_chromium_with_every_table_and_image_loaded(results, tmp_path):
    browser = find_chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it when apt is available)")
    site = tmp_path / "site"
    page = render_site(results, site)
    # a copy of the page with a probe that reports, once everything has loaded, what the browser shows
    probe = site / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  const tables = Array.from(document.querySelectorAll("table")).filter(t => t.getBoundingClientRect().height > 0);
  document.body.setAttribute("data-probe", `images=${images.length} loaded=${loaded} tables=${tables.length}`);
});
</script></body>"""), encoding="utf-8")
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
               "--dump-dom", probe.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    probe_result = re.search(r'data-probe="([^"]*)"', dom)
    assert probe_result, "the page did not finish loading in chromium"
    tables = len(_parse(page).tables)  # README tables, the headline table and the meta.json tables
    assert probe_result.group(1) == f"images=4 loaded=4 tables={tables}"
    assert main(["report", "--results", str(results), "--out", str(site), "--screenshot",
                 str(tmp_path / "page.png")]) == 0
    with Image.open(tmp_path / "page.png") as image:
        assert image.size == (1200, 2200)
        low, high = image.convert("L").getextrema()
        assert high - low > 100  # text and figures, not a blank page


def test_the_projects_own_index_is_read_with_every_figure_named_and_sourced():
    results = Path(__file__).resolve().parents[2] / "results"
    entries = read_index(results)
    assert len(entries) > 100
    for entry in entries:
        assert entry["name"] and entry["value"] is not None and entry["experiment"], entry
        assert (results / entry["source"]).is_file(), entry["source"]
        assert (results / entry["area"] / entry["experiment"]).is_dir(), entry
