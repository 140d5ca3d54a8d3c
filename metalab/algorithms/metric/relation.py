"""Relation Networks (Sung, Yang, Zhang, Xiang, Torr & Hospedales, CVPR 2018).

An embedding module f turns images into feature maps; a learned relation module g scores
each (class, query) pair from their concatenated maps, ``r_ij = g(C(f(x_i), f(x_j)))``
(Eq. 1), a sigmoid score in [0, 1]. With K shots, a class's feature map is the element-wise
sum of its shots' maps (Sec. 3.2; ``shot_pool="sum"``) or, by default here, their mean.
Training minimises the squared error against the one-hot match,
``sum_ij (r_ij - 1(y_i == y_j))^2`` (Eq. 2; here its mean).

Architecture for Omniglot (Sec. 3.4, Fig. 2): f is Conv-4 whose last two blocks do not pool
(28x28 -> 64x7x7 here, padding 1 throughout); g is two conv blocks (3x3 conv, batch norm,
ReLU, max-pool) on the 128-channel concatenation, then fully connected layers 64 -> 8 -> 1
with ReLU and a sigmoid.

The first convolution of g is linear in the concatenation, ``W [a; b] = W_a a + W_b b``, so
it runs once per class and once per query and the N x Q pairs are sums (the same numbers as
convolving every concatenated pair, with N + Q instead of N * Q convolutions).

The task model returns ``log r`` so that a softmax gives the scores normalised over classes
(what ``metalab predict`` prints); :meth:`RelationClassifier.scores` gives r itself.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from metalab.algorithms.metric._common import EncoderConfig, EncoderLearner, check_image_size, encode_episode
from metalab.checks import option
from metalab.models.conv4 import conv_block
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class RelationConfig(EncoderConfig):
    """Hyperparameters of :class:`RelationNet`: its encoder's (:class:`EncoderConfig`; the
    default backbone ``conv4-maps`` keeps feature maps; ``hidden`` also sets the relation
    module's filters) and

    Attributes:
        image_size: input height and width; sets the first fully connected layer's input.
        relation_hidden: width of the relation module's hidden fully connected layer (8).
        shot_pool: how a class's shots become one feature map: ``mean`` (default) or ``sum``
            (the paper, Sec. 3.2). For a model trained and tested with one K they differ by the
            constant K; the mean lets one model serve any number of shots (a 1-shot model
            tested on 5-way 5-shot episodes: 44% with the sum, the maps five times larger than
            any it was trained on) and an unbalanced support set.
    """

    backbone: str = "conv4-maps"
    image_size: int = option(28, minimum=16, meaning=" (four pooling steps)")
    relation_hidden: int = option(8, minimum=1)
    shot_pool: str = option("mean", choices=("mean", "sum"))


class RelationModule(nn.Module):
    """g: relation scores (before the sigmoid) of concatenated (class, query) feature maps."""

    def __init__(self, hidden: int, side: int, width: int) -> None:
        super().__init__()
        self.first = conv_block(2 * hidden, hidden)  # on the concatenation C(f(x_i), f(x_j))
        self.second = conv_block(hidden, hidden)
        self.fc = nn.Sequential(nn.Linear(hidden * side * side, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, classes: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """``[T, N, C, h, w]`` class maps, ``[T, Q, C, h, w]`` query maps -> ``[T, Q, N]`` logits of r."""
        (tasks, ways), n_queries = classes.shape[:2], queries.shape[1]
        conv = self.first[0]
        w_class, w_query = conv.weight.split(classes.shape[2], dim=1)
        a = F.conv2d(classes.flatten(0, 1), w_class, conv.bias, padding=1).unflatten(0, (tasks, ways))
        b = F.conv2d(queries.flatten(0, 1), w_query, None, padding=1).unflatten(0, (tasks, n_queries))
        pairs = (b.unsqueeze(2) + a.unsqueeze(1)).flatten(0, 2)  # [T*Q*N, C, h, w], query-major
        x = self.second(self.first[1:](pairs))
        return self.fc(x.flatten(1)).view(tasks, n_queries, ways)

    def pair(self, class_map: torch.Tensor, query_map: torch.Tensor) -> torch.Tensor:
        """Eq. 1 literally, for checking: ``[B, C, h, w]`` x2 -> ``[B]`` logits of r on the concatenation."""
        x = self.second(self.first(torch.cat([class_map, query_map], 1)))
        return self.fc(x.flatten(1)).squeeze(-1)


def class_maps(maps: torch.Tensor, labels: torch.Tensor, ways: int, pool: str = "sum") -> torch.Tensor:
    """Sum (Sec. 3.2) or mean of each class's feature maps: ``[T, S, C, h, w]``, ``[T, S]`` -> ``[T, N, C, h, w]``."""
    one_hot = F.one_hot(labels, ways).to(maps.dtype)  # [T, S, N]
    if pool == "mean":
        one_hot = one_hot / one_hot.sum(1, keepdim=True).clamp_min(1)
    return torch.einsum("tsn,tschw->tnchw", one_hot, maps)


class RelationClassifier:
    """phi for one task: the modules and the class feature maps (summed or averaged over shots)."""

    def __init__(self, learner: RelationNet, classes: torch.Tensor) -> None:
        self.learner, self.classes = learner, classes

    def scores(self, query_x: torch.Tensor) -> torch.Tensor:
        """Relation scores r in [0, 1]: ``[Q, C, H, W]`` -> ``[Q, N]``."""
        return self(query_x).exp()

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, C, H, W]`` -> ``[Q, N]`` log r."""
        check_image_size(query_x, self.learner.config.image_size, "relation")
        queries = self.learner._encode(query_x).unsqueeze(0)
        return F.logsigmoid(self.learner.relation(self.classes, queries))[0]


class RelationNet(EncoderLearner):
    """Relation Networks: Conv-4 feature maps and a learned relation module, trained with MSE."""

    name = "relation"
    Config = RelationConfig

    def __init__(self, config: RelationConfig | None = None) -> None:
        super().__init__(config)
        config = self.config
        side = config.image_size // 4 // 2 // 2
        self.relation = RelationModule(config.hidden, side, config.relation_hidden)

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> RelationClassifier:
        check_image_size(support_x, self.config.image_size, "relation")
        maps = self._encode(support_x)
        return RelationClassifier(self, class_maps(maps.unsqueeze(0), support_y.unsqueeze(0), ways, self.config.shot_pool))

    def query_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Eq. 2: mean squared error of r = exp(logits) against the one-hot match."""
        return F.mse_loss(logits.exp(), F.one_hot(labels, logits.shape[-1]).to(logits.dtype))

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks at once: ``[T, NQ, N]`` log r."""
        check_image_size(batch.query_x, self.config.image_size, "relation")
        support, queries = encode_episode(self._encode, batch, self.config.chunk, self.training)
        classes = class_maps(support, batch.support_y, batch.ways, self.config.shot_pool)
        return F.logsigmoid(self.relation(classes, queries))

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.contiguous(memory_format=torch.channels_last))
