"""Meta-learners, one per file, all behind :class:`MetaLearner`; looked up by name here."""

from __future__ import annotations

import dataclasses
from typing import Any

from metalab.algorithms.base import MetaLearner, MetaLoss, TaskModel
from metalab.algorithms.matching import MatchingNet
from metalab.algorithms.protonet import ProtoNet
from metalab.algorithms.anil import ANIL
from metalab.algorithms.fomaml import FOMAML
from metalab.algorithms.maml import MAML
from metalab.algorithms.metasgd import MetaSGD
from metalab.algorithms.reptile import Reptile
from metalab.algorithms.taml import TAML
from metalab.algorithms.relation import RelationNet
from metalab.algorithms.siamese import Siamese
from metalab.errors import ConfigError

ALGORITHMS: dict[str, type[MetaLearner]] = {cls.name: cls for cls in (ProtoNet,)}
ALGORITHMS.update({cls.name: cls for cls in (MAML, FOMAML, ANIL, MetaSGD, Reptile, TAML)})  # optimization-based
ALGORITHMS.update({cls.name: cls for cls in (Siamese, MatchingNet, RelationNet)})  # metric-based


def learner_config(algorithm: str, values: dict[str, Any] | None = None) -> Any:
    """The algorithm's ``Config`` dataclass from plain values, rejecting unknown keys."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {algorithm!r}; available: {', '.join(sorted(ALGORITHMS))}")
    config_class = ALGORITHMS[algorithm].Config
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = set(values or {}) - known
    if unknown:
        raise ConfigError(
            f"{algorithm} has no hyperparameter(s) {sorted(unknown)}; known: {sorted(known)}"
        )
    return config_class(**(values or {}))


def build_learner(algorithm: str, values: dict[str, Any] | None = None) -> MetaLearner:
    """A fresh learner of ``algorithm`` with hyperparameters ``values`` (defaults elsewhere)."""
    return ALGORITHMS[algorithm](learner_config(algorithm, values))


__all__ = ["ALGORITHMS", "MetaLearner", "MetaLoss", "TaskModel", "ProtoNet", "build_learner", "learner_config",
           "Siamese", "MatchingNet", "RelationNet"]
