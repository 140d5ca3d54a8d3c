"""Metric-based learners: ``adapt`` embeds the support set, the task model compares queries with it."""

from metalab.algorithms.metric.matching import MatchingNet
from metalab.algorithms.metric.protonet import ProtoNet
from metalab.algorithms.metric.relation import RelationNet
from metalab.algorithms.metric.siamese import Siamese

LEARNERS = (ProtoNet, Siamese, MatchingNet, RelationNet)

__all__ = ["LEARNERS", "MatchingNet", "ProtoNet", "RelationNet", "Siamese"]
