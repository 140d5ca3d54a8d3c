import torch
from torch.func import functional_call

from metalab.models.backbones import ConvClassifier
from metalab.models.conv4 import to_channels_last


def test_one_channel_input_gets_channels_last_strides_and_keeps_its_values():
    x = torch.randn(3, 1, 8, 8)
    y = to_channels_last(x)
    assert y.stride() == (64, 1, 8, 1) and torch.equal(y, x)


def test_adapted_weights_still_run_the_first_block_channels_last():
    """Computed first-layer weights (as MAML's inner step makes) carry NCHW strides; the
    first block must still run channels-last (it ran NCHW, 16% of a MAML step slower)."""
    torch.manual_seed(0)
    model = ConvClassifier()
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(model(torch.randn(5, 1, 28, 28)).sum(), list(params.values()))
    adapted = {k: p - 0.4 * g for (k, p), g in zip(params.items(), grads)}
    first_block = []
    model.features.features[0][0].register_forward_hook(lambda m, i, out: first_block.append(out))
    functional_call(model, adapted, (torch.randn(6, 1, 28, 28),))
    out = first_block[0]
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
