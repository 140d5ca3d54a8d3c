"""Backbones for the optimization-based learners: a feature body and a linear ``head``.

Every parameter of these modules is a plain tensor the inner loop replaces through
:func:`torch.func.functional_call`; the head's parameters are named ``head.*`` (ANIL adapts
only those).

Batch norm (:class:`ConvClassifier`): as in Finn et al. 2017 (Sec. 5.2 and their code), batch
norm always normalises by the statistics of the batch it is given (``track_running_stats=False``:
no running averages, no buffers, the same in training and eval mode). The support set is
normalised by its own statistics in the inner loop and the queries by theirs, in training
and at test time alike, so predictions on a query set depend on the query set as a whole
(transductive, as in the paper). With no buffers to update, the model is a pure function of
its parameters and ``torch.func.vmap`` over tasks is valid. The affine scale and shift are
meta-learned and adapted like the other parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from metalab.models.conv4 import Conv4


class ConvClassifier(nn.Module):
    """Conv-4 with batch-statistics batch norm, then a linear head.

    ``[B, C, S, S] -> [B, outputs]``; the head reads ``hidden * (S // 16)**2`` features
    (64 for 28x28 Omniglot, 1600 for 84x84).
    """

    def __init__(self, in_channels: int = 1, hidden: int = 64, outputs: int = 5, image_size: int = 28) -> None:
        super().__init__()
        # Channels-last, with the pool of metalab.models.pooling and the pool before the ReLU:
        # 1.17x faster per MAML step than the default format (results/maml_speed.md).
        self.features = Conv4(in_channels, hidden, running_stats=False)
        side = image_size
        for _ in range(4):
            side //= 2
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for Conv-4 (needs >= 16)")
        self.head = nn.Linear(hidden * side * side, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class MLP(nn.Module):
    """Two hidden ReLU layers and a linear head (Finn et al. 2017, sinusoid: 40-40).

    ``[B, in_features] -> [B, outputs]``; no normalisation layers.
    """

    def __init__(self, in_features: int = 1, hidden: int = 40, outputs: int = 1, layers: int = 2) -> None:
        super().__init__()
        body: list[nn.Module] = []
        for i in range(layers):
            body += [nn.Linear(in_features if i == 0 else hidden, hidden), nn.ReLU()]
        self.body = nn.Sequential(*body)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
