"""Memory-augmented neural network (Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, ICML 2016).

An LSTM controller reads and writes an external memory ``M`` (``slots x width``). At step t it
sees the image ``x_t``, the one-hot label of the previous step ``y_{t-1}`` and last step's
read vectors, and for each of its read heads emits a key ``k_t`` and a write gate ``alpha_t``:

- read (Eqs. 2-4): ``w^r_t(i) = softmax_i K(k_t, M_t(i))`` with cosine similarity ``K``,
  ``r_t = sum_i w^r_t(i) M_t(i)``;
- least-recently-used access (Eqs. 5-8): usage ``w^u_t = gamma w^u_{t-1} + w^r_t + w^w_t``;
  least-used weights ``w^lu_t(i) = 1`` for the ``heads`` smallest usages, else 0; write weights
  ``w^w_t = sigmoid(alpha_t) w^r_{t-1} + (1 - sigmoid(alpha_t)) w^lu_{t-1}``; before writing, the
  least-used slot is zeroed, then ``M_t(i) = M_{t-1}(i) + w^w_t(i) k_t``.

With ``read_before_write`` the read addresses ``M_{t-1}`` (the least-used slot zeroed) instead
of ``M_t``, so a key cannot find the copy of itself just written; measured, that is what lets
sharp reads find the class's earlier slot (``results/omniglot/mann/read_before_write``).

The class scores come from ``[h_t, r_t]``. Because the label arrives one step late, the
network must bind an image to its label in memory and retrieve it when the class returns.

Under the one interface, ``adapt`` feeds the support set through the controller as such a
sequence (in a fixed interleaved order) and returns a task model that runs each query as the
next step from the state the support left (queries never see each other). On a sequence task
(no support set, see :mod:`metalab.tasks.sequences`) the learner predicts every step online.
With ``memory=False`` it is the paper's LSTM baseline: the same controller without memory.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from metalab.algorithms.base import BatchedMetaLearner
from metalab.checks import fail, option, validate
from metalab.errors import ConfigError
from metalab.tasks.episode import Episode

_EPS = 1e-8


@dataclasses.dataclass(frozen=True)
class MANNConfig:
    """Hyperparameters of :class:`MANN` (defaults: Santoro et al. 2016, Section 4 / Omniglot).

    Attributes:
        outputs: classes per task (the one-hot label input and the output have this size).
        in_channels: image channels.
        side: images are resized (area average) to ``side x side`` and flattened (paper: 20).
        hidden: LSTM controller units (200).
        slots, width: memory size (128 x 40).
        heads: read heads (4); each also writes its key with LRUA.
        gamma: usage decay (0.95, the value public implementations use).
        memory: False gives the LSTM baseline (no memory, no reads).
        distinct_slots: each head's least-used write goes into a slot of its own (head ``j`` into
            the ``j``-th least-used slot) and all ``heads`` of those slots are zeroed before
            writing. Eq. 8 as written (False) marks the ``heads`` least-used slots in one ``w^lu``
            that every head shares, so each head adds its key to all of them and only the least
            used is zeroed: with 4 heads the 4 fresh slots each get the sum of the 4 keys.
        key_strength: multiply each head's cosine similarities by a learned strength
            ``beta_t = 1 + softplus(.) >= 1`` before the read softmax, as the NTM (Graves et al.
            2014, Eq. 5) does. Santoro et al.'s Eq. 2 has none (False); with cosines in [-1, 1]
            over 128 slots its reads start nearly uniform, which slows the escape from chance.
        initial_strength: with ``key_strength``, the strength ``beta`` the untrained network starts
            from (its bias set so that ``beta = initial_strength`` at ``h = 0``); None keeps the
            default initialisation (``beta`` about 1.7). With cosines in [-1, 1] over 128 slots a
            read can only be sharp if ``beta`` is about 10 or more.
        read_before_write: reads address and read the memory as it was before this step's write
            (``M_{t-1}`` with the least-used slot zeroed), so a key cannot find its own copy.
            Eqs. 2-4 as written (False) read ``M_t``, after the write of the same key, whose
            fresh slot always matches it (cosine 1): sharp reads then land on themselves.
        grad_clip: clamp of the gradient through the controller's hidden state at every step
            (NTM-style models stall or go NaN without it); 0 disables.
    """

    outputs: int = option(5, minimum=2)
    in_channels: int = option(1, minimum=1)
    side: int = option(20, minimum=2)
    hidden: int = option(200, minimum=1)
    slots: int = option(128, minimum=1)
    width: int = option(40, minimum=1)
    heads: int = option(4, minimum=1)
    gamma: float = option(0.95, minimum=0, maximum=1, meaning=" (usage decay)")
    memory: bool = True
    distinct_slots: bool = False
    key_strength: bool = False
    initial_strength: float | None = option(None, above=1, meaning=" (beta at initialisation)")
    read_before_write: bool = False
    grad_clip: float = option(10.0, minimum=0, meaning=" (0: no clamp)")

    def __post_init__(self) -> None:
        validate(self)
        if self.initial_strength is not None and not self.key_strength:
            fail("initial_strength sets the learned key strength's starting value; set key_strength=true "
                 "or drop initial_strength", "initial_strength", "key_strength")
        if self.heads > self.slots:
            fail(f"heads ({self.heads}) must not exceed slots ({self.slots}): each read head's "
                 "least-used write needs a slot of its own", "heads", "slots")


@dataclasses.dataclass(frozen=True)
class MemoryState:
    """The recurrent state of a batch of B sequences.

    ``h, c``: ``[B, hidden]``; ``reads``: ``[B, heads*width]``; ``memory``: ``[B, slots, width]``;
    ``read_w``: ``[B, heads, slots]``; ``usage``, ``least_used``: ``[B, slots]``;
    ``label``: ``[B, outputs]`` the previous step's one-hot label; ``write_w``: ``[B, heads, slots]``
    the last step's write weights (kept for inspection; the recurrence does not read them).
    """

    h: torch.Tensor
    c: torch.Tensor
    reads: torch.Tensor
    memory: torch.Tensor
    read_w: torch.Tensor
    usage: torch.Tensor
    least_used: torch.Tensor
    label: torch.Tensor
    write_w: torch.Tensor

    def repeat(self, times: int) -> MemoryState:
        """Each sequence's state ``times`` times in a row (``[B*times, ...]``): one copy per query."""
        return MemoryState(*(getattr(self, f.name).repeat_interleave(times, 0) for f in dataclasses.fields(self)))


def cosine_similarity(keys: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """``K(k, M(i))`` (Eq. 2): ``[B, H, W]`` keys, ``[B, S, W]`` memory -> ``[B, H, S]``; zero rows give 0, not NaN."""
    dot = keys @ memory.transpose(1, 2)
    norms = keys.norm(dim=-1, keepdim=True) * memory.norm(dim=-1).unsqueeze(1)
    return dot / norms.clamp_min(_EPS)


def least_used(usage: torch.Tensor, n: int) -> torch.Tensor:
    """``w^lu`` (Eq. 8): 1 at the ``n`` smallest usages of each row of ``[B, S]``, else 0."""
    smallest = usage.topk(n, dim=-1, largest=False).indices
    return torch.zeros_like(usage).scatter_(-1, smallest, 1.0)


def least_used_per_head(usage: torch.Tensor, heads: int) -> torch.Tensor:
    """``[B, S]`` usage -> ``[B, heads, S]``: head ``j`` one-hot at the ``j``-th least-used slot (ties by
    slot index), the per-head ``w^lu`` of ``distinct_slots``."""
    slots = usage.argsort(dim=-1, stable=True)[:, :heads]
    return F.one_hot(slots, usage.shape[-1]).to(usage.dtype)


def _clip_grad(tensor: torch.Tensor, bound: float) -> torch.Tensor:
    if bound and tensor.requires_grad:
        tensor.register_hook(lambda grad: grad.clamp(-bound, bound))
    return tensor


def support_order(size: int) -> torch.Tensor:
    """A fixed shuffle of ``size`` support positions (the same for every task), so a class-major
    support set reaches the controller in mixed order, as in the sequences it was trained on."""
    return torch.randperm(size, generator=torch.Generator().manual_seed(size))


class MemoryClassifier:
    """phi for one task: the state after reading the support set; each query is its next step."""

    def __init__(self, learner: MANN, state: MemoryState) -> None:
        self.learner, self.state = learner, state

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, C, H, W]`` -> ``[Q, ways]`` logits, every query from the same state."""
        logits, _ = self.learner.step(self.state.repeat(len(query_x)), query_x)
        return logits


class MANN(BatchedMetaLearner):
    """Memory-augmented neural network with LRUA memory (Santoro et al. 2016)."""

    name = "mann"
    Config = MANNConfig
    task_kinds = frozenset({"classification", "sequence"})

    def __init__(self, config: MANNConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        reads = cfg.heads * cfg.width if cfg.memory else 0
        self.controller = nn.LSTMCell(cfg.in_channels * cfg.side**2 + cfg.outputs + reads, cfg.hidden)
        self.keys = nn.Linear(cfg.hidden, cfg.heads * cfg.width) if cfg.memory else None
        self.gates = nn.Linear(cfg.hidden, cfg.heads) if cfg.memory else None
        self.strengths = nn.Linear(cfg.hidden, cfg.heads) if cfg.memory and cfg.key_strength else None
        if self.strengths is not None and cfg.initial_strength is not None:  # 1 + softplus(bias) = initial_strength
            nn.init.constant_(self.strengths.bias, math.log(math.expm1(cfg.initial_strength - 1)))
        self.out = nn.Linear(cfg.hidden + reads, cfg.outputs)

    # The recurrence ---------------------------------------------------------------------------
    def initial_state(self, batch: int, like: torch.Tensor) -> MemoryState:
        """Empty memory and usage; the first writes go to the first ``heads`` slots."""
        cfg = self.config
        zeros = lambda *shape: like.new_zeros(batch, *shape)  # noqa: E731
        return MemoryState(
            h=zeros(cfg.hidden), c=zeros(cfg.hidden), reads=zeros(cfg.heads * cfg.width if cfg.memory else 0),
            memory=zeros(cfg.slots, cfg.width), read_w=zeros(cfg.heads, cfg.slots), usage=zeros(cfg.slots),
            least_used=(torch.arange(cfg.slots, device=like.device) < cfg.heads).to(like.dtype).expand(batch, -1),
            label=zeros(cfg.outputs), write_w=zeros(cfg.heads, cfg.slots),
        )

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` -> ``[B, C*side*side]``, area-resized where needed."""
        cfg = self.config
        if x.ndim != 4 or x.shape[1] != cfg.in_channels:
            raise ConfigError(f"mann expects images [batch, {cfg.in_channels}, H, W], got {tuple(x.shape)}; set "
                              f"in_channels to the images' channels", fields=("in_channels",))
        if tuple(x.shape[-2:]) != (cfg.side, cfg.side):
            x = F.interpolate(x, size=(cfg.side, cfg.side), mode="area")
        return x.flatten(1)

    def step(self, state: MemoryState, x: torch.Tensor) -> tuple[torch.Tensor, MemoryState]:
        """One time step on ``[B, C, H, W]`` images: ``[B, ways]`` logits and the next state.

        The step's own label is not known yet; the caller puts it into the next state's ``label``.
        """
        cfg = self.config
        inputs = torch.cat([self._images(x), state.label, state.reads], dim=1)
        h, c = self.controller(inputs, (state.h, state.c))
        h = _clip_grad(h, cfg.grad_clip)
        if not cfg.memory:
            return self.out(h), dataclasses.replace(state, h=h, c=c)
        keys = torch.tanh(self.keys(h)).unflatten(1, (cfg.heads, cfg.width))  # [B, H, W]
        gate = torch.sigmoid(self.gates(h)).unsqueeze(-1)  # sigmoid(alpha) [B, H, 1]
        if cfg.distinct_slots:  # head j -> the j-th least-used slot; all of them are zeroed
            fresh = least_used_per_head(state.usage, cfg.heads)  # [B, H, S]
            erase = fresh.sum(1)
        else:  # every head -> all `heads` least-used slots; only the least used is zeroed
            fresh = state.least_used.unsqueeze(1)
            erase = F.one_hot(state.usage.argmin(-1), cfg.slots).to(h.dtype)
        write_w = gate * state.read_w + (1 - gate) * fresh  # Eq. 7 [B, H, S]
        # Zero the least-used slot(s) (by the previous usage), then write every head's key (Eq. 8).
        erased = state.memory * (1 - erase).unsqueeze(-1)
        memory = erased + write_w.transpose(1, 2) @ keys
        read_from = erased if cfg.read_before_write else memory
        similarity = cosine_similarity(keys, read_from)  # Eq. 2
        if self.strengths is not None:
            similarity = similarity * (1 + F.softplus(self.strengths(h))).unsqueeze(-1)
        read_w = torch.softmax(similarity, dim=-1)  # Eq. 3 (max-shifted: no overflow)
        reads = (read_w @ read_from).flatten(1)  # Eq. 4
        usage = cfg.gamma * state.usage + read_w.sum(1) + write_w.sum(1)  # Eq. 5
        logits = self.out(torch.cat([h, reads], dim=1))
        next_state = MemoryState(h, c, reads, memory, read_w, usage, least_used(usage, cfg.heads), state.label, write_w)
        return logits, next_state

    def run(self, x: torch.Tensor, y: torch.Tensor, state: MemoryState | None = None) -> tuple[torch.Tensor, MemoryState]:
        """Sequences ``[B, L, C, H, W]`` with labels ``[B, L]``: logits ``[B, L, ways]`` of each step
        (made before its label is shown) and the state after the last label."""
        batch, length = y.shape
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.config.outputs):
            raise ConfigError(f"mann was built for {self.config.outputs}-way tasks but got label {int(y.max())}; "
                              f"set outputs to the tasks' ways", fields=("outputs",))
        state = state or self.initial_state(batch, x)
        labels = F.one_hot(y, self.config.outputs).to(x.dtype)
        logits = []
        for t in range(length):
            out, state = self.step(state, x[:, t])
            state = dataclasses.replace(state, label=labels[:, t])
            logits.append(out)
        empty = x.new_zeros(batch, 0, self.config.outputs)
        return (torch.stack(logits, 1) if logits else empty), state

    # The one interface -------------------------------------------------------------------------
    def read_support(self, support_x: torch.Tensor, support_y: torch.Tensor) -> MemoryState:
        """The state after ``[B, S, ...]`` support sets (in :func:`support_order`) and their labels."""
        order = support_order(support_y.shape[1]).to(support_y.device)
        return self.run(support_x[:, order], support_y[:, order])[1]

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> MemoryClassifier:
        if ways != self.config.outputs:
            raise ConfigError(f"mann was built for {self.config.outputs}-way tasks, got a {ways}-way task; "
                              f"set outputs={ways}", fields=("outputs",))
        return MemoryClassifier(self, self.read_support(support_x[None], support_y[None]))

    def query_logits(self, batch: Episode) -> torch.Tensor:
        """``[T, Q, ways]``: each task's queries from the state its support left; on a sequence task
        (no support), every step's online prediction."""
        if batch.ways != self.config.outputs:
            raise ConfigError(f"mann was built for {self.config.outputs}-way tasks, got {batch.ways}-way tasks; "
                              f"set outputs={batch.ways}", fields=("outputs",))
        if batch.support_y.shape[-1] == 0:
            return self.run(batch.query_x, batch.query_y)[0]
        state = self.read_support(batch.support_x, batch.support_y)
        tasks, queries = batch.query_y.shape
        logits, _ = self.step(state.repeat(queries), batch.query_x.flatten(0, 1))
        return logits.unflatten(0, (tasks, queries))

