"""Meta Networks (Munkhdalai & Yu, ICML 2017).

A base learner ``b`` (slow weights W) classifies; a meta learner writes fast weights into it
from meta-information, the gradients of losses on the support set (Sec. 3, Algorithm 1):

- example-level fast weights (Eq. 1-2): for each support example i, the gradient of the base
  learner's task loss ``grad_i = d loss_task(b(W, x'_i), y'_i) / dW`` is turned into fast
  weights ``W*_i = m(Z, grad_i)`` and stored in a memory ``M``;
- task-level fast weights (Eqs. 3-5): the gradients of a representation loss of the embedding
  ``u`` (slow weights Q) on pairs of support examples are read in turn by an LSTM ``d`` into
  one set of fast weights ``Q* = d(G, {grad_j})`` for the whole task; the embedding of the
  support examples ``r'_i = u(Q, Q*, x'_i)`` is stored in ``R``;
- a query x reads its fast weights by attention over the support embeddings (Eqs. 6-9):
  ``a = cos(R, u(Q, Q*, x))``, ``W* = softmax(a)^T M``, and is classified by ``b(W, W*, x)``;
- layer augmentation (Sec. 3.3): an augmented layer runs its input through the slow and the
  fast weights separately, applies the nonlinearity to each and adds the two outputs.

Gradients are preprocessed by the log-and-sign transform with k = 7
(:func:`metalab.optim.preprocess_gradient`); ``m`` and ``d`` act on every coordinate of a
weight independently (an MLP and an LSTM with 20 units).

Where metalab chooses (the paper's Omniglot networks are 5-layer CNNs): ``b`` and ``u`` are each
a Conv-4 trunk of slow weights topped by layer-augmented fully connected layers: ``b`` by a
hidden layer and the softmax layer (both with example-level fast weights), ``u`` by one
embedding layer (with task-level fast weights). The representation loss is a logistic loss
on the scaled cosine of pairs (same class or not) of support examples ``(i, i+1 mod N)``; the
attention's cosines are scaled by a learned inverse temperature. m and d are made odd in the
gradient (:func:`odd`: a zero gradient writes a zero fast weight). The meta-information is
differentiable in the trunks' features (the fast-weight path trains the trunks too) but not in
the slow weights it is taken at. All tasks' fast weights are computed together, and every
query reads its own fast weights in one batched product (no loop over queries).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from metalab.algorithms.base import BatchedMetaLearner
from metalab.algorithms.metric._common import encode
from metalab.checks import option, validate
from metalab.errors import ConfigError
from metalab.models.conv4 import Conv4
from metalab.optim.learned import CoordinateLSTM, preprocess_gradient
from metalab.tasks.episode import Episode


@dataclasses.dataclass(frozen=True)
class MetaNetConfig:
    """Hyperparameters of :class:`MetaNet`.

    Attributes:
        outputs: classes per task (the base learner's softmax layer has this many units).
        in_channels, image_size: the images' channels and side (Conv-4 is sized for it).
        hidden: filters per conv block of both trunks (64, as the paper's CNNs).
        units: width of the base learner's augmented hidden layer and of the embedding.
        meta_hidden: units of the fast-weight generators m (two hidden layers) and d (one LSTM
            layer): 20 in the paper.
        k: the log-and-sign preprocessing constant (7 in the paper).
        chunk: images per trunk call during training (ghost batch norm, as ProtoNet); 0 = all.
    """

    outputs: int = option(5, minimum=2)
    in_channels: int = option(1, minimum=1)
    image_size: int = option(28, minimum=16)
    hidden: int = option(64, minimum=1)
    units: int = option(64, minimum=1)
    meta_hidden: int = option(20, minimum=1)
    k: float = option(7.0, above=0)
    chunk: int = option(80, minimum=0, meaning=" (0: all at once)")

    def __post_init__(self) -> None:
        validate(self)


@dataclasses.dataclass(frozen=True)
class FastMemory:
    """What ``adapt`` writes for T tasks of N support examples: the example-level fast weights
    ``M`` of the base learner's two layers (``[T, N, units, D]``, ``[T, N, outputs, units]``),
    the task-level fast weights ``Q*`` of the embedding (``[T, units, D]``) and the support
    embeddings ``R`` (``[T, N, units]``)."""

    hidden: torch.Tensor
    output: torch.Tensor
    embedding: torch.Tensor
    keys: torch.Tensor


def example_gradients(
    loss: Callable[[list[torch.Tensor]], torch.Tensor], weights: list[torch.Tensor], batch: tuple[int, ...]
) -> list[torch.Tensor]:
    """Meta-information: ``d loss_e / d W`` of every example e of ``batch`` for each weight W.

    ``loss(copies)`` gets one copy of each weight per example (``[*batch, *W.shape]``) and
    returns the per-example losses ``[*batch]``; each loss reads only its own copy, so one
    backward pass gives all examples' gradients. They stay differentiable (in everything but
    the slow weights) when the caller records gradients.
    """
    create = torch.is_grad_enabled()
    with torch.enable_grad():
        copies = [w.detach().expand(*batch, *w.shape).clone().requires_grad_() for w in weights]
        return list(torch.autograd.grad(loss(copies).sum(), copies, create_graph=create))


class CoordinateMLP(nn.Module):
    """The generator m: preprocessed gradient -> fast weight, on every coordinate alone (Eq. 1)."""

    def __init__(self, hidden: int, k: float) -> None:
        super().__init__()
        self.k = k
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, grad: torch.Tensor) -> torch.Tensor:
        """Odd in the gradient (see :func:`odd`): ``(m(g) - m(-g)) / 2``."""
        return odd(lambda g: self.net(preprocess_gradient(g, self.k)).squeeze(-1), grad)


def odd(generator: Callable[[torch.Tensor], torch.Tensor], grad: torch.Tensor) -> torch.Tensor:
    """``(f(g) - f(-g)) / 2`` in one call of ``f`` on both signs: no meta-information, no fast weight.

    Most coordinates' support gradients are far below ``e^-k``, where the log-and-sign transform
    sends them all close to ``(-1, 0)``; a plain generator then writes nearly the same value
    into every coordinate, and a layer whose fast weights all share one sign on non-negative
    features is dead after its ReLU (half the initialisations were). The odd part keeps the
    sign and size of each gradient (to first order ``m'(.) e^k g``), like an update step.
    """
    both = generator(torch.cat([grad, -grad]))
    return (both[: len(grad)] - both[len(grad) :]) / 2


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[..., P, E]`` and ``[..., S, E]`` -> ``[..., P, S]`` cosine similarities (0 for a zero vector)."""
    return F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).transpose(-1, -2)


class FastWeightClassifier:
    """phi for one task: the learner and the fast memory its support set wrote."""

    def __init__(self, learner: MetaNet, memory: FastMemory) -> None:
        self.learner, self.memory = learner, memory

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, C, H, W]`` -> ``[Q, ways]`` logits."""
        base, embedded = self.learner.trunks(query_x[None])
        return self.learner.classify(self.memory, base, embedded)[0]


class MetaNet(BatchedMetaLearner):
    """Meta Networks: example- and task-level fast weights from support-loss gradients."""

    name = "metanet"
    Config = MetaNetConfig

    def __init__(self, config: MetaNetConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.base_trunk = Conv4(cfg.in_channels, cfg.hidden)  # b's convolutions (slow W)
        self.embed_trunk = Conv4(cfg.in_channels, cfg.hidden)  # u's convolutions (slow Q)
        with torch.no_grad():
            features = self.base_trunk.eval()(torch.zeros(1, cfg.in_channels, cfg.image_size, cfg.image_size)).shape[1]
        self.base_trunk.train()
        self.base_hidden = nn.Linear(features, cfg.units)  # augmented layers of b (slow W)
        self.base_out = nn.Linear(cfg.units, cfg.outputs)
        self.embed = nn.Linear(features, cfg.units, bias=False)  # augmented layer of u (slow Q)
        self.pair_scale = nn.Parameter(torch.tensor([5.0, -2.5]))  # representation loss: scale, bias
        self.attention_scale = nn.Parameter(torch.tensor(10.0))
        self.m_hidden = CoordinateMLP(cfg.meta_hidden, cfg.k)  # m (Z), one per augmented layer of b
        self.m_output = CoordinateMLP(cfg.meta_hidden, cfg.k)
        self.d = CoordinateLSTM(cfg.meta_hidden, layers=1, k=cfg.k, output_scale=1.0)  # d (G)

    # Networks ----------------------------------------------------------------------------------
    def trunks(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[T, n, C, H, W]`` images -> conv features of b and of u, each ``[T, n, D]``."""
        cfg = self.config
        if x.ndim != 5 or x.shape[2] != cfg.in_channels or tuple(x.shape[-2:]) != (cfg.image_size,) * 2:
            raise ConfigError(f"metanet was built for [{cfg.in_channels}, {cfg.image_size}, {cfg.image_size}] images, "
                              f"got {tuple(x.shape[2:])}; set in_channels and image_size to the data's",
                              fields=("in_channels", "image_size"))
        flat = x.flatten(0, 1)
        return tuple(encode(trunk, flat, cfg.chunk, self.training).unflatten(0, x.shape[:2])
                     for trunk in (self.base_trunk, self.embed_trunk))

    def base(self, h: torch.Tensor, hidden: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """b with fast weights for each example: ``[..., D]`` features -> ``[..., ways]`` logits.

        Layer augmentation: ``relu(W h + b) + relu(W* h)``, then ``W z + b + W* z`` (softmax layer).
        """
        z = F.relu(self.base_hidden(h)) + F.relu((hidden @ h.unsqueeze(-1)).squeeze(-1))
        return self.base_out(z) + (output @ z.unsqueeze(-1)).squeeze(-1)

    def embedding(self, h: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        """u: ``[T, n, D]`` features and ``[T, units, D]`` task-level fast weights -> ``[T, n, units]``."""
        return F.relu(self.embed(h)) + F.relu(h @ fast.transpose(-1, -2))

    # Fast weights ------------------------------------------------------------------------------
    def write(self, base: torch.Tensor, embedded: torch.Tensor, labels: torch.Tensor) -> FastMemory:
        """Algorithm 1, lines 2-14, for all tasks at once: support features ``[T, N, D]`` -> memory."""
        tasks, n = labels.shape
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.config.outputs):
            raise ConfigError(f"metanet was built for {self.config.outputs}-way tasks but got label "
                              f"{int(labels.max())}; set outputs to the tasks' ways", fields=("outputs",))
        # Task-level: representation loss on pairs (i, i+1 mod N), gradients w.r.t. Q, read by d.
        partner = torch.roll(torch.arange(n, device=labels.device), -1)
        same = (labels == labels[:, partner]).to(embedded.dtype)

        def pair_loss(copies: list[torch.Tensor]) -> torch.Tensor:
            (q,) = copies  # [T, N, units, D]
            r = F.relu((q @ embedded.unsqueeze(-1)).squeeze(-1))
            r_partner = F.relu((q @ embedded[:, partner].unsqueeze(-1)).squeeze(-1))
            similarity = F.cosine_similarity(r, r_partner, dim=-1, eps=1e-8)
            return F.binary_cross_entropy_with_logits(self.pair_scale[0] * similarity + self.pair_scale[1], same,
                                                      reduction="none")

        (pair_grads,) = example_gradients(pair_loss, [self.embed.weight], (tasks, n))
        fast_q = odd(self.read_pairs, pair_grads.transpose(0, 1).flatten(1).T).view(tasks, *self.embed.weight.shape)

        # Example-level: each support example's task-loss gradient w.r.t. W, through m, into M.
        def task_loss(copies: list[torch.Tensor]) -> torch.Tensor:
            w_hidden, w_out = copies
            z = F.relu((w_hidden @ base.unsqueeze(-1)).squeeze(-1) + self.base_hidden.bias)
            logits = (w_out @ z.unsqueeze(-1)).squeeze(-1) + self.base_out.bias
            return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")

        slow = [self.base_hidden.weight, self.base_out.weight]
        grad_hidden, grad_out = example_gradients(task_loss, slow, (tasks, n))
        return FastMemory(self.m_hidden(grad_hidden), self.m_output(grad_out), fast_q,
                          self.embedding(embedded, fast_q))

    def read_pairs(self, grads: torch.Tensor) -> torch.Tensor:
        """d (Eq. 4): ``[coordinates, N]`` gradients, read in turn by the LSTM -> ``[coordinates]``."""
        state = self.d.initial_state(len(grads), grads)
        for j in range(grads.shape[1]):
            fast, state = self.d(grads[:, j], state)
        return fast

    def classify(self, memory: FastMemory, base: torch.Tensor, embedded: torch.Tensor) -> torch.Tensor:
        """Algorithm 1, lines 16-20: query features ``[T, Q, D]`` -> logits ``[T, Q, ways]``."""
        keys = self.embedding(embedded, memory.embedding)
        attention = torch.softmax(self.attention_scale * cosine(keys, memory.keys), dim=-1)  # [T, Q, N]
        hidden = torch.einsum("tqn,tnud->tqud", attention, memory.hidden)
        output = torch.einsum("tqn,tnou->tqou", attention, memory.output)
        return self.base(base, hidden, output)

    # The one interface -------------------------------------------------------------------------
    def _check_ways(self, ways: int) -> None:
        if ways != self.config.outputs:
            raise ConfigError(f"metanet was built for {self.config.outputs}-way tasks, got a {ways}-way task; "
                              f"train a model with outputs={ways}", fields=("outputs",))

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> FastWeightClassifier:
        self._check_ways(ways)
        return FastWeightClassifier(self, self.write(*self.trunks(support_x[None]), support_y[None]))

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks' support and query images through the trunks together: ``[T, NQ, ways]``."""
        self._check_ways(batch.ways)
        n = batch.support_y.shape[1]
        base, embedded = self.trunks(torch.cat([batch.support_x, batch.query_x], dim=1))
        memory = self.write(base[:, :n], embedded[:, :n], batch.support_y)
        return self.classify(memory, base[:, n:], embedded[:, n:])
