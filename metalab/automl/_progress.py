"""What a user sees while ``AutoClassifier.fit`` runs: a progress bar over the time budget and
a live leaderboard (a line for each trial that beats the best so far), through tqdm."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import optuna


class SearchProgress:
    """A context manager whose :attr:`callbacks` (Optuna callbacks) advance the bar after each
    trial; disabled, it shows nothing and has no callbacks."""

    def __init__(self, budget: float, start: float, *, enabled: bool, file: Any = None) -> None:
        self.budget, self.start, self.enabled = budget, start, enabled
        self.file = file if file is not None else sys.stderr
        self.best = float("-inf")
        self.trials = 0
        self.bar: Any = None

    @property
    def callbacks(self) -> Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]]:
        return (self._after_trial,) if self.enabled else ()

    def __enter__(self) -> SearchProgress:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=round(self.budget, 1), unit="s", desc="AutoClassifier", file=self.file,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s{postfix}")
            self._advance()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self._advance()
            self.bar.close()

    def _advance(self) -> None:
        self.bar.n = round(min(time.monotonic() - self.start, self.budget), 1)
        self.bar.refresh()

    def _after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.trials += 1
        classifier = trial.params.get("classifier", "?")
        status = trial.user_attrs.get("status", trial.state.name.lower())
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.value is not None and trial.value > self.best:
            self.best = float(trial.value)
            self.bar.write(f"  trial {trial.number:3d}  {classifier:22s} balanced accuracy {self.best:.4f} "
                           f"(new best, {time.monotonic() - self.start:.1f} s)", file=self.file)
            self.bar.set_postfix_str(f"{self.trials} trials, best {self.best:.4f} ({classifier})", refresh=False)
        elif self.best == float("-inf"):
            self.bar.set_postfix_str(f"{self.trials} trials, last {status}", refresh=False)
        else:
            self.bar.set_postfix_str(f"{self.trials} trials, best {self.best:.4f}", refresh=False)
        self._advance()
