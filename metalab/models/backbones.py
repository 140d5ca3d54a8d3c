"""Backbones by name: the feature bodies learners are built on, and a linear head for them.

A learner's config names its backbone (``backbone: conv4``); :func:`build_encoder` builds it
from the registry, to which :func:`register_backbone` adds a user's own. A factory takes
``in_channels``, ``hidden`` and ``running_stats`` and returns a module mapping ``[B, ...]``
inputs to ``[B, D]`` features (``conv4-maps``: ``[B, hidden, h, w]`` feature maps).

For the optimization-based learners :class:`WithHead` puts a linear ``head`` on a body; every
parameter is a plain tensor the inner loop replaces through
:func:`torch.func.functional_call`, and the head's parameters are named ``head.*`` (ANIL
adapts only those).

Batch norm for the inner loop (``running_stats=False``): as in Finn et al. 2017 (Sec. 5.2
and their code), batch norm always normalises by the statistics of the batch it is given
(no running averages, no buffers, the same in training and eval mode). The support set is
normalised by its own statistics in the inner loop and the queries by theirs, in training
and at test time alike, so predictions on a query set depend on the query set as a whole
(transductive, as in the paper). With no buffers to update, the model is a pure function of
its parameters and ``torch.func.vmap`` over tasks is valid. The metric-based learners keep
running statistics (``running_stats=True``) and use them in eval mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from metalab.errors import ConfigError
from metalab.models.conv4 import Conv4, conv_block

BackboneFactory = Callable[..., nn.Module]  # (in_channels=, hidden=, running_stats=) -> module


def conv4(in_channels: int = 1, hidden: int = 64, running_stats: bool = True) -> nn.Module:
    """Conv-4 (Vinyals et al. 2016): ``[B, C, 28, 28] -> [B, 64]``, channels-last on the CPU."""
    return Conv4(in_channels, hidden, running_stats=running_stats)


def conv4_maps(in_channels: int = 1, hidden: int = 64, running_stats: bool = True) -> nn.Module:
    """Conv-4 whose last two blocks do not pool (Sung et al. 2018's embedding module):
    ``[B, C, H, W] -> [B, hidden, H // 4, W // 4]`` feature maps."""
    blocks = [conv_block(in_channels, hidden, running_stats), conv_block(hidden, hidden, running_stats)]
    blocks += [conv_block(hidden, hidden, running_stats, pool=False) for _ in range(2)]
    return nn.Sequential(*blocks).to(memory_format=torch.channels_last)


def mlp(in_channels: int = 1, hidden: int = 40, running_stats: bool = True, layers: int = 2) -> nn.Module:
    """Two hidden ReLU layers (Finn et al. 2017, sinusoid: 40-40): ``[B, in_channels] -> [B, hidden]``."""
    body: list[nn.Module] = []
    for i in range(layers):
        body += [nn.Linear(in_channels if i == 0 else hidden, hidden), nn.ReLU()]
    return nn.Sequential(*body)


BACKBONES: dict[str, BackboneFactory] = {"conv4": conv4, "conv4-maps": conv4_maps, "mlp": mlp}
VECTOR_BACKBONES = {"mlp"}  # backbones of ``[B, in_channels]`` vectors; the others take images


def register_backbone(name: str, factory: BackboneFactory, *, vector_input: bool = False) -> None:
    """Make ``backbone: name`` build ``factory(in_channels=, hidden=, running_stats=)``;
    ``vector_input``: it reads ``[B, in_channels]`` vectors, not ``[B, C, S, S]`` images."""
    BACKBONES[name] = factory
    if vector_input:
        VECTOR_BACKBONES.add(name)
    else:
        VECTOR_BACKBONES.discard(name)


def input_shape(name: str, in_channels: int, image_size: int) -> tuple[int, ...]:
    """One input's shape for backbone ``name``: ``[in_channels]`` or ``[in_channels, S, S]``."""
    return (in_channels,) if name in VECTOR_BACKBONES else (in_channels, image_size, image_size)


REGISTER_HINT = " (or one registered with metalab.register_backbone)"


def check_backbone(name: str) -> None:
    if name not in BACKBONES:
        raise ConfigError(f"backbone must be one of {sorted(BACKBONES)}{REGISTER_HINT}, got {name!r}",
                          fields=("backbone",))


def build_encoder(name: str, *, in_channels: int, hidden: int, running_stats: bool = True) -> nn.Module:
    """The registered backbone ``name``."""
    check_backbone(name)
    return BACKBONES[name](in_channels=in_channels, hidden=hidden, running_stats=running_stats)


def feature_size(body: nn.Module, example_shape: Sequence[int]) -> int:
    """The length of ``body``'s flattened output for one input of ``example_shape``, read in
    eval mode from a zero input (a body with running statistics keeps them)."""
    training = body.training
    with torch.no_grad():
        size = body.eval()(torch.zeros(2, *example_shape)).flatten(1).shape[1]
    body.train(training)
    return size


class WithHead(nn.Module):
    """A body and a linear ``head`` on its flattened features: ``[B, ...] -> [B, outputs]``.

    Args:
        body: the feature module.
        outputs: the head's size (classes, or the target dimension).
        example_shape: one input's shape (``[C, S, S]`` or ``[d]``); the head's input size is
            read from the body's output on a zero input of that shape.
    """

    def __init__(self, body: nn.Module, outputs: int, example_shape: Sequence[int]) -> None:
        super().__init__()
        self.body = body
        self.head = nn.Linear(feature_size(body, example_shape), outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))
