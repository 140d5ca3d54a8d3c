"""Meta-learners, one per file, grouped by family, all behind :class:`MetaLearner`; looked up by name here.

- :mod:`~metalab.algorithms.metric`: ProtoNet, Siamese, Matching and Relation networks;
- :mod:`~metalab.algorithms.gradient`: MAML, first-order MAML, ANIL, Meta-SGD, Reptile, TAML,
  MAML-RL, L2O (a learned optimizer) and the LSTM meta-learner;
- :mod:`~metalab.algorithms.memory`: the model-based learners: MANN, Meta Networks and RL^2.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from metalab.algorithms import gradient, memory, metric
from metalab.algorithms.base import MetaLearner, MetaLoss, Runtime, TaskModel
from metalab.algorithms.gradient import ANIL, FOMAML, L2O, MAML, MAMLRL, TAML, MetaLSTM, MetaSGD, Reptile
from metalab.algorithms.memory import MANN, RL2, MetaNet
from metalab.algorithms.metric import MatchingNet, ProtoNet, RelationNet, Siamese
from metalab.errors import ConfigError

ALGORITHMS: dict[str, type[MetaLearner]] = {
    cls.name: cls for cls in (*metric.LEARNERS, *gradient.LEARNERS, *memory.LEARNERS)
}
RUNTIME_OPTIONS = tuple(f.name for f in dataclasses.fields(Runtime))  # not hyperparameters


def learner_config(algorithm: str, values: dict[str, Any] | None = None) -> Any:
    """The algorithm's ``Config`` dataclass from plain values, rejecting unknown keys."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {algorithm!r}; available: {', '.join(sorted(ALGORITHMS))}",
                          fields=("algorithm",))
    config_class = ALGORITHMS[algorithm].Config
    known = {f.name for f in dataclasses.fields(config_class)}
    runtime = sorted(set(values or {}) & set(RUNTIME_OPTIONS))
    if runtime:
        raise ConfigError(f"{runtime} are runtime options, not hyperparameters of {algorithm}: set them as "
                          f"training options ({', '.join(f'{k}=...' for k in runtime)})", fields=tuple(runtime))
    unknown = set(values or {}) - known
    if unknown:
        raise ConfigError(
            f"{algorithm} has no hyperparameter(s) {sorted(unknown, key=str)}; known: {sorted(known)}"
        )
    return config_class(**(values or {}))


def build_learner(algorithm: str, values: dict[str, Any] | None = None) -> MetaLearner:
    """A fresh learner of ``algorithm`` with hyperparameters ``values`` (defaults elsewhere)."""
    return ALGORITHMS[algorithm](learner_config(algorithm, values))


__all__ = ["ALGORITHMS", "ANIL", "FOMAML", "L2O", "MAML", "MAMLRL", "MANN", "MatchingNet", "MetaLearner", "MetaLoss",
           "MetaLSTM", "MetaNet", "MetaSGD", "ProtoNet", "RL2",
           "RelationNet", "Reptile", "Runtime", "Siamese", "TAML", "TaskModel", "build_learner", "learner_config"]
