"""Published figures: every one names the paper and the table it was read from."""

from __future__ import annotations

import re

from metalab.evaluation.paper import PAPER_ACCURACY, PAPER_MSE, PAPER_RETURN, paper_figure


def test_every_paper_figure_cites_a_paper_with_its_year_and_the_table_it_comes_from():
    for key, (value, source) in {**PAPER_ACCURACY, **PAPER_MSE, **PAPER_RETURN}.items():
        assert isinstance(value, float), key
        assert re.search(r"(et al\.|& \w+) \d{4}", source), (key, source)
        assert re.search(r"Table \d+", source), (key, source)


def test_omniglot_figures_are_given_for_the_vinyals_split_only():
    assert paper_figure("protonet", "omniglot", 5, 1) == (98.8, "Snell et al. 2017, Table 1")
    assert paper_figure("protonet", "omniglot", 5, 1, split="lake") is None
    assert paper_figure("maml", "sinusoid", None, 5, split=None) == PAPER_MSE.get(("maml", "sinusoid", None, 5))
