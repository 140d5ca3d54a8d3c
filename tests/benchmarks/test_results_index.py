"""results/: one layout, and every headline figure of results/index.json recomputed from its raw file."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("scipy")
pytest.importorskip("pandas")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from results_index import INDEX, build, mismatches  # noqa: E402

from metalab.evaluation.paper import paper_figure  # noqa: E402

RESULTS = ROOT / "results"
AREAS = {"omniglot", "sinusoid", "speed", "automl", "l2o", "rl"}


@pytest.fixture(scope="module")
def index() -> dict:
    return json.loads(INDEX.read_text(encoding="utf-8"))


def test_every_figure_of_the_index_is_reproduced_from_its_raw_file_by_the_reporting_code(index):
    assert len(index["figures"]) > 50
    assert mismatches(index) == []


def test_a_figure_that_differs_from_its_raw_file_is_reported(index):
    changed = copy.deepcopy(index)
    entry = next(e for e in changed["figures"] if e["id"] == "automl/portfolio/10s/warm/rank")
    entry["value"] = round(entry["value"] + 0.01, 2)
    changed["figures"] = [entry]
    (wrong,) = mismatches(changed)
    assert "automl/portfolio/10s/warm/rank: value" in wrong


def test_the_index_is_what_build_writes_from_the_current_raw_files(index):
    assert build()["figures"] == index["figures"]


def test_every_source_exists_inside_the_experiment_folder_it_names_or_another_results_folder(index):
    for entry in index["figures"]:
        assert (RESULTS / entry["experiment"]).is_dir(), entry["id"]
        for source in entry["sources"]:
            assert source.startswith("results/") and (ROOT / source).is_file(), (entry["id"], source)


def test_every_eval_output_under_results_is_in_the_index(index):
    listed = {s for e in index["figures"] for s in e["sources"]}
    for file in list(RESULTS.glob("omniglot/*/eval_*.json")) + list(RESULTS.glob("sinusoid/*/*shot.json")):
        assert str(file.relative_to(ROOT)) in listed, file


# Experiment folders with no headline figure in the index, and why (every other folder has one).
NOT_INDEXED = {
    "automl/cross_evaluation_2026-12-02": "the candidates' score matrix, an input of the portfolio runs",
    "automl/peers_pilot_2026-12-04": "a pilot (12 datasets, one split, 10 s) of the comparison with "
    "FLAML and AutoGluon, not the full protocol: no headline figure until that has run",
}


def test_every_experiment_folder_has_headline_figures_in_the_index_or_a_reason_not_to(index):
    indexed = {entry["experiment"] for entry in index["figures"]}
    folders = {str(p.relative_to(RESULTS)) for p in _experiments()}
    assert indexed <= folders
    assert folders - indexed == set(NOT_INDEXED)


def test_paper_figures_in_the_index_are_the_cited_tables_figures(index):
    for entry in index["figures"]:
        if entry.get("paper"):
            args = json.loads((ROOT / entry["sources"][0]).read_text())
            expected = paper_figure(args["algorithm"], args["dataset"], args.get("ways"), args["shots"])
            assert (entry["paper"]["value"], entry["paper"]["source"]) == expected, entry["id"]
            assert re.search(r"(et al\.|& \w+) \d{4}", entry["paper"]["source"]), entry["id"]  # a cited paper


def test_results_top_level_holds_only_the_areas_an_index_a_readme_and_the_page_screenshot():
    entries = {p.name for p in RESULTS.iterdir()}
    assert AREAS <= entries and {"index.json", "README.md"} <= entries
    assert entries - {"index.json", "README.md", "report_screenshot.png"} == {
        name for name in entries if (RESULTS / name).is_dir()}
    assert len(entries) <= 12


def _experiments() -> list[Path]:
    return sorted(p.parent for p in RESULTS.glob("*/*/meta.json"))


def test_every_experiment_folder_has_a_readme_and_a_meta_json_with_date_machine_commit_commands_budget():
    folders = {p for area in AREAS for p in (RESULTS / area).iterdir() if p.is_dir()}
    assert folders == set(_experiments()), "an experiment folder without meta.json"
    for folder in folders:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        assert {"date", "machine", "commands", "budget"} <= set(meta), folder
        assert "commit" in meta or "commits" in meta, folder
        assert meta["commands"] and all(isinstance(c, str) for c in meta["commands"]), folder
        readme = (folder / "README.md").read_text(encoding="utf-8")
        assert readme.startswith("# "), folder


def test_no_issue_numbers_or_process_narrative_in_results_readmes():
    for readme in RESULTS.rglob("README.md"):
        text = readme.read_text(encoding="utf-8").lower()
        # In meta-RL a goal is the task itself (the point robot's target, Finn et al.'s term).
        words = ("issue", "session") if "rl" in readme.relative_to(RESULTS).parts else ("issue", "session", "goal")
        for word in words:
            assert word not in text, (readme, word)
