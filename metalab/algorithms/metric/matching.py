"""Matching Networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, NeurIPS 2016).

A query is labelled by attention over the support set, ``P(y|x, S) = sum_i a(x, x_i) y_i``
(Eq. 1), the attention a softmax over cosine similarities of the embeddings,
``a(x, x_i) = exp(c(f(x), g(x_i))) / sum_j exp(c(f(x), g(x_j)))`` (Eq. 2). The task model
returns ``log P(y = k | x, S)``; training maximises the log-likelihood of the query labels
(Sec. 2.2; the cross-entropy of these logits).

Without full context embeddings (the default, as the paper's Omniglot results) f = g = Conv-4.
With ``fce=True`` (Sec. 2.1.2 and Appendix A):

- ``g(x_i, S) = h_i(forward) + h_i(backward) + g'(x_i)``, a bidirectional LSTM over the
  embedded support sequence, with a skip connection (A.2);
- ``f(x, S) = attLSTM(f'(x), g(S), K)``, K steps of ``h^_k, c_k = LSTM([f'(x), r_{k-1}],
  h_{k-1}, c_{k-1})``, ``h_k = h^_k + f'(x)``, ``r_k = sum_i softmax(h_k . g(x_i)) g(x_i)``
  (A.1), starting from ``h_0 = c_0 = 0`` (so ``r_0`` is the mean of g(S)). The LSTM reads
  ``[f'(x), r_{k-1}]`` as input and ``h_{k-1}`` as state, which is the paper's LSTM with
  state ``[h_{k-1}, r_{k-1}]``.

The support LSTM reads the support set in the given (class-major) order.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from metalab.algorithms.metric._common import EncoderConfig, EncoderLearner, check_image_size, class_logsumexp, encode_episode
from metalab.checks import option
from metalab.models.backbones import feature_size
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class MatchingConfig(EncoderConfig):
    """Hyperparameters of :class:`MatchingNet`: its encoder's (:class:`EncoderConfig`) and

    Attributes:
        image_size: input height and width; sets the embedding size (the LSTMs' width with ``fce``).
        fce: full context embeddings (bidirectional support LSTM, attention LSTM for queries).
        fce_steps: K, the attention LSTM's processing steps.
        scale: multiplies the cosine similarities before the softmax; 1 is Eq. 2. Post-ReLU
            embeddings have cosines in [0, 1], so at 1 the attention stays flat and learns
            slowly (not in the paper); the default 20 was measured best of 1, 10 and 20 (3
            minutes of Omniglot 5-way 1-shot training: results/omniglot/defaults_3min).
        learn_scale: make the scale a meta-parameter (learned in log space, starting from
            ``scale``), a learned temperature as in Oreshkin et al. 2018 (TADAM, Sec. 2.2),
            instead of a fixed one.
    """

    image_size: int = option(28, minimum=1)
    fce: bool = False
    fce_steps: int = option(5, minimum=1)
    scale: float = option(20.0, above=0)
    learn_scale: bool = False


def cosine_attention(queries: torch.Tensor, support: torch.Tensor, scale: float | torch.Tensor = 1.0) -> torch.Tensor:
    """``a(x, x_i)`` (Eq. 2): ``[..., Q, D]``, ``[..., S, D]`` -> ``[..., Q, S]``, rows summing to 1."""
    return cosine_log_attention(queries, support, scale).exp()


def cosine_log_attention(queries: torch.Tensor, support: torch.Tensor, scale: float | torch.Tensor = 1.0) -> torch.Tensor:
    """``log a(x, x_i)``, the log-softmax over ``scale`` times the cosine similarities."""
    cosine = F.normalize(queries, dim=-1) @ F.normalize(support, dim=-1).transpose(-1, -2)
    return (scale * cosine).log_softmax(-1)


class FullContext(nn.Module):
    """The full context embeddings g(x_i, S) and f(x, S) of Appendix A, batched over tasks."""

    def __init__(self, dim: int, steps: int) -> None:
        super().__init__()
        self.steps = steps
        self.support_lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.query_lstm = nn.LSTMCell(2 * dim, dim)

    def support(self, g: torch.Tensor) -> torch.Tensor:
        """A.2: ``[T, S, D]`` -> ``[T, S, D]``."""
        forward, backward = self.support_lstm(g)[0].chunk(2, dim=-1)
        return g + forward + backward

    def queries(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """A.1: ``[T, Q, D]`` query embeddings read the context ``[T, S, D]`` -> ``[T, Q, D]``."""
        h = c = torch.zeros_like(f)
        for _ in range(self.steps):
            r = (h @ g.transpose(-1, -2)).softmax(-1) @ g
            h_hat, c = self.query_lstm(torch.cat([f, r], -1).flatten(0, 1), (h.flatten(0, 1), c.flatten(0, 1)))
            h, c = h_hat.view_as(f) + f, c.view_as(f)
        return h


class MatchingClassifier:
    """phi for one task: the embedded support set as an attention memory."""

    def __init__(self, learner: MatchingNet, support: torch.Tensor, labels: torch.Tensor, ways: int) -> None:
        self.learner, self.support, self.labels, self.ways = learner, support, labels, ways

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, C, H, W]`` -> ``[Q, N]`` log P(y = k | x, S)."""
        check_image_size(query_x, self.learner.config.image_size, "matching")
        queries = self.learner.encoder(query_x).unsqueeze(0)
        return self.learner._log_probabilities(self.support, self.labels, queries, self.ways)[0]


class MatchingNet(EncoderLearner):
    """Matching Networks on a Conv-4 encoder, optionally with full context embeddings."""

    name = "matching"
    Config = MatchingConfig

    def __init__(self, config: MatchingConfig | None = None) -> None:
        super().__init__(config)
        config = self.config
        dim = feature_size(self.encoder, (config.in_channels, config.image_size, config.image_size))
        self.context = FullContext(dim, config.fce_steps) if config.fce else None
        self.log_scale = nn.Parameter(torch.tensor(math.log(config.scale))) if config.learn_scale else None

    @property
    def scale(self) -> torch.Tensor | float:
        """The cosines' multiplier: learned (``learn_scale``) or the configured constant."""
        return self.log_scale.exp() if self.log_scale is not None else self.config.scale

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> MatchingClassifier:
        check_image_size(support_x, self.config.image_size, "matching")
        return MatchingClassifier(self, self.encoder(support_x).unsqueeze(0), support_y.unsqueeze(0), ways)

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks at once: ``[T, NQ, N]``."""
        check_image_size(batch.query_x, self.config.image_size, "matching")
        support, queries = encode_episode(self.encoder, batch, self.config.chunk, self.training)
        return self._log_probabilities(support, batch.support_y, queries, batch.ways)

    def _log_probabilities(
        self, support: torch.Tensor, labels: torch.Tensor, queries: torch.Tensor, ways: int
    ) -> torch.Tensor:
        """Eq. 1 in log space: ``[T, S, D]`` support, ``[T, S]`` labels, ``[T, Q, D]`` queries -> ``[T, Q, N]``."""
        if self.context is not None:
            support = self.context.support(support)
            queries = self.context.queries(queries, support)
        return class_logsumexp(cosine_log_attention(queries, support, self.scale), labels, ways)
