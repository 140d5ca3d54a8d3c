"""Optimizee architectures: shapes, layers and activations of the models a learned optimizer trains."""

import torch

from metalab.models.optimizees import OPTIMIZEES


def _params(name, hidden=5):
    return OPTIMIZEES[name].init(2, 4, hidden, 3, torch.Generator().manual_seed(0))


def test_every_mlp_maps_tasks_by_examples_by_features_to_outputs():
    x = torch.randn(2, 7, 4)
    for name in ("mlp", "mlp2", "mlp-relu"):
        assert OPTIMIZEES[name].forward(_params(name), x).shape == (2, 7, 3)


def test_mlp2_has_two_hidden_layers_and_mlp_one():
    assert sorted(_params("mlp")) == ["b1", "b2", "w1", "w2"]
    params = _params("mlp2", hidden=6)
    assert sorted(params) == ["b1", "b2", "b3", "w1", "w2", "w3"]
    assert params["w2"].shape == (2, 6, 6)


def test_relu_and_sigmoid_mlps_differ_only_in_the_activation():
    params, x = _params("mlp"), torch.randn(2, 7, 4)
    relu = OPTIMIZEES["mlp-relu"].forward(params, x)
    h = torch.relu(torch.bmm(x, params["w1"].transpose(1, 2)) + params["b1"])
    assert torch.allclose(relu, torch.bmm(h, params["w2"].transpose(1, 2)) + params["b2"])
    assert not torch.allclose(relu, OPTIMIZEES["mlp"].forward(params, x))
