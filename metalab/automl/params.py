"""AutoClassifier's hyperparameters, declared with :mod:`metalab.checks` as every config is.

The estimator's constructor only stores its arguments (scikit-learn's rule); ``fit`` checks them
by building :class:`Params` from ``get_params()``, so that a value of the wrong type or range is
a :class:`~metalab.errors.ConfigError` naming the parameter, the value and what it must be.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from metalab.checks import SEED32_MAX, fail, option, validate

SEARCHES = ("tpe", "random")
WARMSTARTS = ("portfolio", "portfolio-cost", "nearest")


@dataclasses.dataclass(frozen=True)
class Params:
    """What each :class:`~metalab.automl.AutoClassifier` hyperparameter must be (see its docstring)."""

    time_budget: float = option(60.0, above=0, meaning=" (seconds)")
    seed: int | None = option(0, minimum=0, maximum=SEED32_MAX, meaning=" (None: drawn at fit)")
    search: str = option("tpe", choices=SEARCHES)
    cv: int = option(3, minimum=2)
    n_warmstart: int = option(10, minimum=0)
    warmstart: str = option("portfolio", choices=WARMSTARTS)
    explore_after_warmstart: bool = False
    ensemble_size: int = option(25, minimum=1)
    ensemble_nbest: int = option(20, minimum=1)
    per_fit_time_limit: float | None = option(None, above=0, meaning=" (None: time_budget / 4, at least 1)")
    n_trials: int | None = option(None, minimum=1)
    max_search_rows: int | str | None = "auto"
    progress: bool = False

    def __post_init__(self) -> None:
        validate(self)
        rows = self.max_search_rows
        if (isinstance(rows, str) and rows != "auto") or (isinstance(rows, int) and rows < 2):
            fail(f"max_search_rows must be an integer >= 2, 'auto' or None, got {rows!r}", "max_search_rows")

    @classmethod
    def of(cls, params: dict[str, Any]) -> Params:
        """The declared fields of an estimator's ``get_params()`` (numpy scalars as Python ones)."""
        return cls(**{f.name: _plain(params[f.name]) for f in dataclasses.fields(cls)})


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
