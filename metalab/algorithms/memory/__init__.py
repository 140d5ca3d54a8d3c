"""Model-based learners: ``adapt`` writes the support set into a memory or fast weights,
and the task model reads them back."""

from metalab.algorithms.memory.mann import MANN
from metalab.algorithms.memory.metanet import MetaNet

LEARNERS = (MANN, MetaNet)

__all__ = ["LEARNERS", "MANN", "MetaNet"]
