"""2x2 max-pooling that is fast on the CPU in both directions and twice differentiable.

PyTorch's CPU max-pool forward is slow in the default (NCHW) format (torch 2.13, one thread,
``[75, 64, 28, 28]``, ``benchmarks/pool_speed.py``: 23 ms, against 1.4 ms channels-last).
:func:`max_pool2` takes the channels-last forward (keeping the argmax indices) and computes
the backward as a scatter-add of the output gradient onto the argmax positions, in the input's
own memory format (in place on fresh zeros, which saves the out-of-place scatter's copy of them:
1.08x per MAML step, ``benchmarks/maml_pool_ab.py``; out of place under vmap). That backward is made of differentiable operations (its derivative with
respect to the output gradient is a gather), so MAML's second-order meta-gradient flows
through it, and ``generate_vmap_rule`` lets it run under :func:`torch.func.grad` and
:func:`torch.func.vmap`. Values and gradients equal ``F.max_pool2d(x, 2)``'s. Alone its
backward is slower than PyTorch's channels-last one (10 ms vs 2 ms); inside a second-order
MAML step it is 1.05x faster than ``F.max_pool2d`` on the same channels-last model
(``results/speed/maml_meta_step/README.md``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class _MaxPool2(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        except RuntimeError:  # under vmap, which cannot query memory formats: the default kernel
            return torch.ops.aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
        y, indices = torch.ops.aten.max_pool2d_with_indices(
            x.contiguous(memory_format=torch.channels_last), [2, 2], [2, 2]
        )
        if not channels_last:  # outputs in the input's memory format
            y, indices = y.contiguous(), indices.contiguous()
        return y, indices

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor], output: tuple[torch.Tensor, torch.Tensor]) -> None:
        ctx.save_for_backward(output[1])
        ctx.mark_non_differentiable(output[1])
        ctx.input_shape = inputs[0].shape

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor, _: torch.Tensor) -> torch.Tensor:
        (indices,) = ctx.saved_tensors
        return unpool(grad_y, indices, ctx.input_shape)


def unpool(grad_y: torch.Tensor, indices: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The max-pool backward: ``grad_y [N, C, h, w]`` added at ``indices`` (flat positions in
    each ``H x W`` plane) of zeros of ``shape [N, C, H, W]``, in the indices' memory format."""
    n, c, h, w = shape
    if indices.is_contiguous():
        planes = _scatter_add_into_zeros(grad_y, (n, c, h * w), 2, indices.flatten(2), grad_y.contiguous().flatten(2))
        return planes.view(n, c, h, w)
    pixels = _scatter_add_into_zeros(  # channels-last: scatter along the pixels of [N, HW, C]
        grad_y, (n, h * w, c), 1, indices.permute(0, 2, 3, 1).flatten(1, 2), grad_y.permute(0, 2, 3, 1).reshape(n, -1, c)
    )
    return pixels.unflatten(1, (h, w)).permute(0, 3, 1, 2)


def _scatter_add_into_zeros(
    like: torch.Tensor, shape: tuple[int, ...], dim: int, index: torch.Tensor, src: torch.Tensor
) -> torch.Tensor:
    """``zeros(shape).scatter_add(dim, index, src)``, in place on the fresh zeros where allowed
    (saves the out-of-place op's copy of the zeros); under vmap, where a batched ``src`` cannot
    be written into unbatched zeros, out of place."""
    zeros = like.new_zeros(shape)
    try:
        return zeros.scatter_add_(dim, index, src)
    except RuntimeError:  # vmap: in-place write of a batched tensor into an unbatched one
        return zeros.scatter_add(dim, index, src)


def max_pool2(x: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(x, 2)`` for ``[N, C, H, W]``, fast on the CPU (see the module docstring)."""
    return _MaxPool2.apply(x)[0]


class MaxPool2(nn.Module):
    """:func:`max_pool2` as a module: 2x2 windows, stride 2, odd sizes floored."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return max_pool2(x)
