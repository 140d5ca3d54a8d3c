"""Published figures: every one names the paper and the table it was read from."""

from __future__ import annotations

import re

from metalab.evaluation.paper import PAPER_ACCURACY, PAPER_MSE, PAPER_RETURN


def test_every_paper_figure_cites_a_paper_with_its_year_and_the_table_it_comes_from():
    for key, (value, source) in {**PAPER_ACCURACY, **PAPER_MSE, **PAPER_RETURN}.items():
        assert isinstance(value, float), key
        assert re.search(r"(et al\.|& \w+) \d{4}", source), (key, source)
        assert re.search(r"Table \d+", source), (key, source)
