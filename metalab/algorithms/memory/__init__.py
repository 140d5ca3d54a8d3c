"""Model-based learners: ``adapt`` writes the support set into a memory or fast weights,
and the task model reads them back; RL^2 keeps a
recurrent policy's memory of the task it plays."""

from metalab.algorithms.memory.mann import MANN
from metalab.algorithms.memory.metanet import MetaNet
from metalab.algorithms.memory.rl2 import RL2

LEARNERS = (MANN, MetaNet, RL2)

__all__ = ["LEARNERS", "MANN", "MetaNet", "RL2"]
