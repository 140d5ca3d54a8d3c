"""Siamese networks (Koch, Zemel & Salakhutdinov, ICML Deep Learning Workshop 2015).

Twin encoders with shared weights embed two images, and the weighted L1 distance between the
embeddings becomes the probability that both show the same class (Sec. 3.1):
``p(x1, x2) = sigmoid(sum_j alpha_j |f(x1)_j - f(x2)_j| + b)``, trained with binary
cross-entropy against "same class" (Sec. 3.2, the loss L(x1, x2)). The twin here is the
Conv-4 encoder, not the paper's larger network with a 4096-unit layer.

One-shot classification (Sec. 4.3) gives a query the class of the support example it is
most similar to; with K shots a class scores the mean of its shots' probabilities,
``p_k(x) = 1/K sum_j p(x, s_kj)``, and the task model returns ``log p_k(x)`` (so a softmax
gives ``p_k / sum_l p_l``).

Training pairs come from the training episodes: every query against every class of its
task (one "same" and N-1 "different" pairs per query), which for one shot are exactly the
image pairs (query, support example); the loss is their mean binary cross-entropy.

The distance weights start negative (p falls as embeddings move apart) and the bias at 3, so
that pairs start near p = 0.5 (the initial weighted L1 distance of Conv-4 embeddings of
28x28 characters is about 3); with random-signed weights and a zero bias, 40 steps of 5-way
1-shot training reached 55% instead of 86% on validation characters.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from metalab.algorithms.metric._common import (
    EncoderConfig,
    EncoderLearner,
    check_image_size,
    class_logsumexp,
    encode_episode,
    shots_per_class,
)
from metalab.checks import option
from metalab.models.backbones import feature_size
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class SiameseConfig(EncoderConfig):
    """Hyperparameters of :class:`Siamese`: its encoder's (:class:`EncoderConfig`) and
    ``image_size``, the input height and width (sets the distance layer's width)."""

    image_size: int = option(28, minimum=1)


def pair_logits(head: nn.Linear, queries: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Pre-sigmoid same-class scores ``alpha . |f(x) - f(s)| + b``.

    ``[..., Q, D]`` query and ``[..., S, D]`` support embeddings -> ``[..., Q, S]``.
    """
    return head((queries.unsqueeze(-2) - support.unsqueeze(-3)).abs()).squeeze(-1)


def class_log_probabilities(pairs: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """``log p_k``, the log of the mean same-class probability over class k's shots.

    ``[..., Q, S]`` pair scores and ``[..., S]`` labels -> ``[..., Q, N]``.
    """
    return class_logsumexp(F.logsigmoid(pairs), labels, ways) - shots_per_class(labels, ways).log()


class SiameseClassifier:
    """phi for one task: the encoder, the distance head and the embedded support set."""

    def __init__(self, learner: Siamese, support: torch.Tensor, labels: torch.Tensor, ways: int) -> None:
        self.learner, self.support, self.labels, self.ways = learner, support, labels, ways

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, C, H, W]`` -> ``[Q, N]`` log mean same-class probabilities."""
        check_image_size(query_x, self.learner.config.image_size, "siamese")
        pairs = pair_logits(self.learner.head, self.learner.encoder(query_x), self.support)
        return class_log_probabilities(pairs, self.labels, self.ways)


class Siamese(EncoderLearner):
    """Siamese networks on a Conv-4 twin, trained on same / different pairs from episodes."""

    name = "siamese"
    Config = SiameseConfig

    def __init__(self, config: SiameseConfig | None = None) -> None:
        super().__init__(config)
        config = self.config
        self.head = nn.Linear(feature_size(self.encoder, (config.in_channels, config.image_size, config.image_size)), 1)
        with torch.no_grad():  # a distance from the start: alpha_j < 0; p(x1, x2) near 0.5 at first
            self.head.weight.abs_().neg_()
            self.head.bias.fill_(3.0)

    def similarity(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """``p(x1, x2)`` for aligned pairs ``[B, C, H, W]`` x2 -> ``[B]``; symmetric in x1 and x2."""
        z1, z2 = self.encoder(x1), self.encoder(x2)
        return torch.sigmoid(self.head((z1 - z2).abs()).squeeze(-1))

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> SiameseClassifier:
        check_image_size(support_x, self.config.image_size, "siamese")
        return SiameseClassifier(self, self.encoder(support_x), support_y, ways)

    def query_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean binary cross-entropy of ``p_k(x) = exp(logits)`` against "x is of class k" (Sec. 3.2)."""
        return F.binary_cross_entropy(logits.exp(), F.one_hot(labels, logits.shape[-1]).to(logits.dtype))

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks at once: ``[T, NQ, N]``."""
        check_image_size(batch.query_x, self.config.image_size, "siamese")
        support, query = encode_episode(self.encoder, batch, self.config.chunk, self.training)
        return class_log_probabilities(pair_logits(self.head, query, support), batch.support_y, batch.ways)

