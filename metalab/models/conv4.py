"""The Conv-4 backbone of the few-shot literature (Vinyals et al. 2016; Snell et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from metalab.models.pooling import MaxPool2


def conv_block(in_channels: int, out_channels: int, running_stats: bool = True, pool: bool = True) -> nn.Sequential:
    """conv 3x3 (padding 1) -> batch norm -> max-pool 2 -> ReLU (``pool=False``: no pooling).

    The max-pool runs before the ReLU: ReLU is monotone, so ``relu(maxpool(x)) ==
    maxpool(relu(x))`` with the same gradients, and the ReLU and its backward then touch a
    quarter of the values. The pool is :class:`~metalab.models.pooling.MaxPool2` (fast on
    the CPU in both directions).
    """
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels, track_running_stats=running_stats),
    ]
    return nn.Sequential(*layers, *([MaxPool2()] if pool else []), nn.ReLU())


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x [N, C, H, W]`` in channels-last memory format, also when ``C == 1``.

    A one-channel tensor is contiguous in both formats, so ``contiguous(channels_last)`` keeps
    its NCHW strides, and the convolution picks its output format from the strides of input
    and weight. MAML's adapted weights are computed tensors with NCHW strides, so the first
    block of every query pass ran NCHW (slower batch norm and pooling, then a copy). Fresh
    channels-last strides (a copy of the small input) settle it.
    """
    if x.dim() == 4 and x.shape[1] == 1:
        return x.permute(0, 2, 3, 1).clone(memory_format=torch.contiguous_format).permute(0, 3, 1, 2)
    return x.contiguous(memory_format=torch.channels_last)


class Conv4(nn.Module):
    """Four conv blocks, flattened: ``[B, C, 28, 28] -> [B, 64]`` (``[B, 1600]`` for 84x84).

    Batch norm keeps running statistics in training mode and uses them in eval mode; the
    metric-based learners rely on that. With ``running_stats=False`` it always normalises by
    the current batch's statistics and has no buffers, as MAML's inner loop needs (see
    :mod:`metalab.models.backbones`). Inputs run in channels-last memory format, which is
    faster on the CPU for these small convolutions (``channels_last=False``: the default
    format).
    """

    def __init__(
        self, in_channels: int = 1, hidden: int = 64, blocks: int = 4, running_stats: bool = True,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        layers = [conv_block(in_channels if i == 0 else hidden, hidden, running_stats) for i in range(blocks)]
        self.features = nn.Sequential(*layers)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_last(x) if self.memory_format is torch.channels_last else x.contiguous()
        return self.features(x).flatten(1)
