"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017).

Each class is represented by the mean of its embedded support examples (Eq. 1,
``c_k = 1/|S_k| sum f(x_i)``) and a query is classified by a softmax over negative squared
Euclidean distances to the prototypes (Eq. 2, ``p(y=k|x) ∝ exp(-||f(x) - c_k||^2)``).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from metalab.algorithms.metric._common import EncoderConfig, EncoderLearner, encode_episode
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class ProtoNetConfig(EncoderConfig):
    """Hyperparameters of :class:`ProtoNet`: its encoder's (:class:`EncoderConfig`)."""


def class_means(embeddings: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """Prototypes (Eq. 1): ``[..., NK, D]`` embeddings, ``[..., NK]`` labels -> ``[..., N, D]``."""
    one_hot = F.one_hot(labels, ways).to(embeddings.dtype)
    return (one_hot.transpose(-1, -2) @ embeddings) / one_hot.sum(-2).unsqueeze(-1)


def squared_distances(queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """``[..., Q, D]`` and ``[..., N, D]`` -> ``[..., Q, N]`` squared Euclidean distances."""
    return (
        queries.pow(2).sum(-1, keepdim=True)
        - 2 * queries @ prototypes.transpose(-1, -2)
        + prototypes.pow(2).sum(-1).unsqueeze(-2)
    ).clamp(min=0)


class PrototypeClassifier:
    """phi for one task: the encoder and the class prototypes (Eq. 2)."""

    def __init__(self, encoder: torch.nn.Module, prototypes: torch.Tensor) -> None:
        self.encoder, self.prototypes = encoder, prototypes

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return -squared_distances(self.encoder(query_x), self.prototypes)


class ProtoNet(EncoderLearner):
    """Prototypical Networks on a Conv-4 encoder."""

    name = "protonet"
    Config = ProtoNetConfig

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> PrototypeClassifier:
        return PrototypeClassifier(self.encoder, class_means(self.encoder(support_x), support_y, ways))

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks' support and query images through the encoder together: ``[T, NQ, N]``."""
        support, query = encode_episode(self.encoder, batch, self.config.chunk, self.training)
        return -squared_distances(query.flatten(2), class_means(support.flatten(2), batch.support_y, batch.ways))
