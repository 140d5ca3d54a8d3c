"""Each learner's measured training defaults: what a run uses for the options it does not state.

:class:`~metalab.training.config.TrainConfig`'s ``queries``, ``meta_batch`` and ``lr`` default
to None, which means: the learner's measured choice for the task family (:data:`MEASURED`),
else :data:`GENERAL`. The learner's own hyperparameters (inner step size, temperature, ...)
have their measured defaults in its ``Config``, except those whose best value depends on the
task family (:data:`LEARNER_MEASURED`, filled into ``TrainConfig.learner``). All were chosen on
Omniglot 5-way 1-shot with three minutes of training on one CPU core
(``results/omniglot/defaults_3min``); a config file or a command-line option always overrides them.
"""

from __future__ import annotations

from typing import Any

GENERAL: dict[str, Any] = {"queries": 15, "meta_batch": 1, "lr": 1e-3}
"""The defaults of every learner and task family without a measured choice."""

IMAGE_FAMILIES = frozenset({"omniglot", "folder"})
"""The image-classification families the measured choices apply to."""

_FEWER_QUERIES = {"queries": 5}
"""5 queries per class instead of 15: a step costs about a third as many query images, so three
minutes buy 1.7-2.6x as many meta-updates, worth +1.0 to +2.6 points of 5-way 1-shot
validation accuracy for each of these learners (one run each; results/omniglot/defaults_3min)."""

MEASURED: dict[str, dict[str, Any]] = {
    # Reptile steps on support and queries together (ReptileConfig.inner_on_queries): 10
    # examples per class, as Nichol et al.'s 10 "train shots" (86.3% vs 82.9% with 5 per class).
    "reptile": {"queries": 9},
    **{algorithm: _FEWER_QUERIES for algorithm in ("metasgd", "anil", "relation")},
    # Adam at 3e-3 instead of 1e-3, with learned inner rates (LEARNER_MEASURED): +1.8 MAML and
    # +1.4 TAML points of validation accuracy over LSLR at 1e-3 in three minutes; first-order
    # MAML 94.77 against 84.42 at 1e-3 (with 3 inner steps and LSLR too); Meta-SGD gained
    # nothing from it (94.94 vs 94.98).
    **{algorithm: {**_FEWER_QUERIES, "lr": 3e-3} for algorithm in ("maml", "fomaml", "taml")},
}
"""Algorithm -> its measured training options on image-classification tasks."""


LEARNER_MEASURED: dict[str, dict[str, Any]] = {
    # MAML++'s LSLR (Antoniou et al. 2019): inner step sizes learned per tensor and step, +0.49
    # (MAML) and +0.76 (TAML) points of 5-way 1-shot validation accuracy in three minutes. Not
    # on the sinusoid, where it was not measured; the learners' Config keeps the paper's False.
    "maml": {"learned_lrs": True},
    "taml": {"learned_lrs": True},
    # First-order MAML: 3 inner steps and LSLR (94.77 validation, against 89.10 with LSLR and
    # one step, 90.19 with three steps and fixed rates, all at Adam 3e-3), and 20 steps when
    # adapting outside training (94.92 against 94.77 with 10, on the same trained model).
    "fomaml": {"learned_lrs": True, "inner_steps": 3, "eval_inner_steps": 20},
    # Meta-SGD: its per-entry inner rates start at 0.1 instead of MAML's step size 0.4 (Li et
    # al. draw them at random in a small range): 96.46 validation accuracy in three minutes,
    # against 95.43, 96.02, 94.89 and 93.96 with 0.05, 0.2, 0.4 and 0.6.
    "metasgd": {"inner_lr": 0.1},
}
"""Algorithm -> its measured hyperparameters on image-classification tasks, where they differ
from its ``Config``'s defaults."""


def training_defaults(algorithm: str, family: str) -> dict[str, Any]:
    """``queries``, ``meta_batch`` and ``lr`` for ``algorithm`` on tasks of ``family`` (a name
    from :data:`metalab.tasks.registry.FAMILIES`) when a run does not state them."""
    measured = MEASURED.get(algorithm, {}) if family in IMAGE_FAMILIES else {}
    return {**GENERAL, **measured}


def learner_defaults(algorithm: str, family: str) -> dict[str, Any]:
    """The hyperparameters of ``algorithm`` a run on tasks of ``family`` takes when it does not
    state them (the rest come from the learner's ``Config``)."""
    return dict(LEARNER_MEASURED.get(algorithm, {})) if family in IMAGE_FAMILIES else {}
