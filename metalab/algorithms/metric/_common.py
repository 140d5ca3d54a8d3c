"""Pieces the metric-based learners share (Siamese, Matching and Relation networks)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
import torch.nn.functional as F

from metalab.algorithms.base import BatchedMetaLearner
from metalab.checks import option, validate
from metalab.errors import ConfigError
from metalab.models.backbones import BACKBONES, REGISTER_HINT, build_encoder
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """What every metric learner's config holds about its encoder.

    Attributes:
        backbone: the encoder, a name from :data:`metalab.models.backbones.BACKBONES`.
        in_channels: image channels (1 for Omniglot).
        hidden: filters per conv block (64 in the papers).
        chunk: images per encoder call during training; batches of about 80 run fastest on
            the CPU (batch norm then normalises each chunk: "ghost" batch norm). 0 = all.
    """

    backbone: str = option("conv4", choices=BACKBONES, meaning=REGISTER_HINT)
    in_channels: int = option(1, minimum=1)
    hidden: int = option(64, minimum=1)
    chunk: int = option(80, minimum=0, meaning=" (0: all at once)")

    def __post_init__(self) -> None:
        validate(self)


class EncoderLearner(BatchedMetaLearner):
    """A metric learner: ``encoder``, the backbone its :class:`EncoderConfig` names, and what
    a subclass adds on top of it."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__(config)
        self.encoder = build_encoder(self.config.backbone, in_channels=self.config.in_channels, hidden=self.config.hidden)


def encode(encoder: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int, training: bool) -> torch.Tensor:
    """``encoder(x)``, in chunks of ``chunk`` images while training (ghost batch norm, as ProtoNet)."""
    size = chunk if training and chunk else len(x)
    return torch.cat([encoder(part) for part in x.split(size)])


def encode_episode(
    encoder: Callable[[torch.Tensor], torch.Tensor], batch: Episode, chunk: int, training: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """All tasks' support and query images through ``encoder`` together.

    Returns ``[T, N*K, ...]`` support and ``[T, N*Q, ...]`` query encodings.
    """
    tasks, n_support = batch.support_y.shape
    z = encode(encoder, torch.cat([batch.support_x.flatten(0, 1), batch.query_x.flatten(0, 1)]), chunk, training)
    return z[: tasks * n_support].unflatten(0, (tasks, n_support)), z[tasks * n_support :].unflatten(0, (tasks, -1))


def class_logsumexp(log_weights: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """``log sum_{i: y_i = k} exp(w_i)``: ``[..., Q, S]`` weights, ``[..., S]`` labels -> ``[..., Q, N]``.

    Shots per class may differ (a support folder need not be balanced).
    """
    mask = F.one_hot(labels, ways).to(log_weights.dtype).log()  # 0 where y_i = k, -inf elsewhere
    return (log_weights.unsqueeze(-1) + mask.unsqueeze(-3)).logsumexp(-2)


def shots_per_class(labels: torch.Tensor, ways: int) -> torch.Tensor:
    """``[..., S]`` labels -> ``[..., 1, N]`` support examples per class (float, for broadcasting)."""
    return F.one_hot(labels, ways).sum(-2, dtype=torch.float32).unsqueeze(-2)


def check_image_size(x: torch.Tensor, size: int, name: str) -> None:
    """The learner's layers were sized for ``size x size`` images; say how to fix a mismatch."""
    if tuple(x.shape[-2:]) != (size, size):
        raise ConfigError(
            f"{name} was built for {size}x{size} images (image_size={size}) but got "
            f"{x.shape[-2]}x{x.shape[-1]}; train it with image_size={x.shape[-1]}", fields=("image_size",),
        )
