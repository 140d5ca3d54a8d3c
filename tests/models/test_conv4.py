import torch
from torch.func import functional_call

from metalab.algorithms.gradient.maml import MAMLConfig, build_model
from metalab.models.conv4 import to_channels_last


def test_one_channel_input_gets_channels_last_strides_and_keeps_its_values():
    x = torch.randn(3, 1, 8, 8)
    y = to_channels_last(x)
    assert y.stride() == (64, 1, 8, 1) and torch.equal(y, x)


def test_adapted_weights_still_run_the_first_block_channels_last():
    """Computed first-layer weights (as MAML's inner step makes) carry NCHW strides; the
    first block must still run channels-last (it ran NCHW, 16% of a MAML step slower)."""
    torch.manual_seed(0)
    model = build_model(MAMLConfig())
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(model(torch.randn(5, 1, 28, 28)).sum(), list(params.values()))
    adapted = {k: p - 0.4 * g for (k, p), g in zip(params.items(), grads)}
    first_block = []
    model.body.features[0][0].register_forward_hook(lambda m, i, out: first_block.append(out))
    functional_call(model, adapted, (torch.randn(6, 1, 28, 28),))
    out = first_block[0]
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()


def test_a_registered_backbone_is_built_by_name_for_every_family_of_learner():
    from torch import nn

    from metalab.algorithms import build_learner
    from metalab.models.backbones import BACKBONES, register_backbone

    def tiny(in_channels, hidden, running_stats=True):  # a user's own encoder
        return nn.Sequential(nn.Conv2d(in_channels, hidden, 3, stride=4), nn.Flatten())

    register_backbone("tiny-test", tiny)
    try:
        x = torch.randn(4, 1, 28, 28)
        proto = build_learner("protonet", {"backbone": "tiny-test", "hidden": 6})
        assert proto.encoder(x).shape == (4, 6 * 7 * 7)
        maml = build_learner("maml", {"backbone": "tiny-test", "hidden": 6, "outputs": 3})
        assert maml.model(x).shape == (4, 3) and set(dict(maml.model.named_parameters())) == {
            "body.0.weight", "body.0.bias", "head.weight", "head.bias"}
    finally:
        del BACKBONES["tiny-test"]
