"""max_pool2 equals F.max_pool2d in value, gradient and second derivative, in both memory
formats, and runs under torch.func; conv_block's pool-before-ReLU equals the paper's order."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from metalab.models.conv4 import conv_block
from metalab.models.pooling import max_pool2

FORMATS = [torch.contiguous_format, torch.channels_last]


def _input(shape, memory_format, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).contiguous(memory_format=memory_format)


@pytest.mark.parametrize("memory_format", FORMATS)
@pytest.mark.parametrize("shape", [(3, 4, 8, 8), (2, 5, 7, 7), (1, 2, 6, 9)])
def test_max_pool2_value_and_gradient_equal_max_pool2d(shape, memory_format):
    x = _input(shape, memory_format).requires_grad_()
    y = max_pool2(x)
    expected = F.max_pool2d(x, 2)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    grad_y = _input(y.shape, torch.contiguous_format, seed=1)
    (ours,) = torch.autograd.grad(y, x, grad_y)
    (theirs,) = torch.autograd.grad(expected, x, grad_y)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert ours.is_contiguous(memory_format=memory_format)  # the backward keeps the input's format


@pytest.mark.parametrize("memory_format", FORMATS)
def test_max_pool2_second_derivative_passes_gradgradcheck(memory_format):
    x = _input((2, 3, 6, 6), memory_format).requires_grad_()
    assert torch.autograd.gradcheck(max_pool2, (x,))
    assert torch.autograd.gradgradcheck(max_pool2, (x,))


def test_max_pool2_under_torch_func_grad_and_vmap_matches_autograd():
    x = _input((4, 2, 3, 6, 6), torch.contiguous_format)  # 4 tasks
    w = _input((3,), torch.contiguous_format, seed=2)

    def loss(w, x):  # a parameter before the pool, so the pool's backward is on the path
        return (max_pool2(x * w.view(1, -1, 1, 1)) ** 2).sum()

    def reference(w, x):
        return (F.max_pool2d(x * w.view(1, -1, 1, 1), 2) ** 2).sum()

    ours = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(w, x)
    theirs = torch.stack([torch.func.grad(reference)(w, xi) for xi in x])
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("memory_format", FORMATS)
def test_conv_block_pooling_before_relu_equals_the_paper_order(memory_format):
    torch.manual_seed(0)
    block = conv_block(3, 4, running_stats=False).double().to(memory_format=memory_format)
    conv, norm = block[0], block[1]
    paper = nn.Sequential(conv, norm, nn.ReLU(), nn.MaxPool2d(2))  # conv, BN, ReLU, pool
    x = _input((5, 3, 9, 9), memory_format).requires_grad_()
    ours, theirs = block(x), paper(x)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    grad_y = _input(ours.shape, torch.contiguous_format, seed=3)
    g_ours = torch.autograd.grad(ours, [x, conv.weight], grad_y)
    g_theirs = torch.autograd.grad(theirs, [x, conv.weight], grad_y)
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)
