"""Learning to learn by gradient descent by gradient descent (Andrychowicz et al., NeurIPS 2016).

The meta-learned object is the optimizer: a coordinatewise LSTM (:func:`metalab.optim.learned`)
that turns each coordinate's gradient into its update. ``adapt`` trains a fresh optimizee
(:mod:`metalab.models.optimizees`, initialised from a seed derived from the task's data) for
``eval_unroll`` steps with it and returns the trained optimizee as the task model.
Meta-training minimises the sum of the optimizee's losses along an unroll of ``unroll``
steps, ``L(phi) = E_f [ sum_t f(theta_t) ]`` (Eq. 2, all weights 1), by truncated
backpropagation through time: every ``truncation`` steps the loss so far is one meta-update
and the optimizee's parameters and the LSTM's states are detached. As in the paper the
gradients the LSTM reads are treated as constants (``second_order=False``: the terms
``d grad f / d phi`` are dropped); ``second_order=True`` keeps them.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Iterator

import torch

from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.checks import SEED_MAX, option, validate
from metalab.models.optimizees import OPTIMIZEES
from metalab.optim import CoordinateLSTM, learned
from metalab.tasks.episode import Episode
from metalab.tasks.losses import LOSSES
from metalab.tasks.seeding import derive_seed, seeded_generator


@dataclasses.dataclass(frozen=True)
class L2OConfig:
    """Hyperparameters of :class:`L2O` (defaults: the paper's, for its quadratics).

    Attributes:
        optimizee: the model trained per task, a key of :data:`metalab.models.optimizees.OPTIMIZEES`.
        in_channels, hidden, outputs: the optimizee's input, hidden (``mlp``) and output sizes.
        loss: the optimizee's loss, a key of :data:`metalab.tasks.losses.LOSSES` (the task family sets it).
        lstm_hidden, lstm_layers: the optimizer network (20 units, 2 layers).
        k: gradient preprocessing constant (10); output_scale: the update scale (0.1).
        unroll: optimizee steps per meta-training task (100).
        truncation: steps between meta-updates of truncated backpropagation (20).
        eval_unroll: steps ``adapt`` takes (None: ``unroll``).
        batch_size: examples per optimizee step, drawn anew each step from the task's support
            set (the paper's minibatches of 128); None: the whole support set.
        second_order: keep the gradients' dependence on phi (the paper drops it).
        init_seed: seeds the optimizee's initialisation, with the task's data.
    """

    optimizee: str = option("linear", choices=OPTIMIZEES)
    in_channels: int = option(10, minimum=1)
    hidden: int = option(20, minimum=1)
    outputs: int = option(1, minimum=1)
    loss: str = option("sum_squares", choices=LOSSES)
    lstm_hidden: int = option(20, minimum=1)
    lstm_layers: int = option(2, minimum=1)
    k: float = option(10.0, above=0)
    output_scale: float = option(0.1, above=0)
    unroll: int = option(100, minimum=1)
    truncation: int = option(20, minimum=1)
    eval_unroll: int | None = option(None, minimum=1, meaning=" (None: as unroll)")
    batch_size: int | None = option(None, minimum=1, meaning=" (None: the whole support set)")
    second_order: bool = False
    init_seed: int = option(0, minimum=0, maximum=SEED_MAX)

    def __post_init__(self) -> None:
        validate(self)


class TrainedOptimizee:
    """phi for one task: the optimizee at its trained parameters (``[Q, in]`` -> ``[Q, out]``)."""

    def __init__(self, forward, params: dict[str, torch.Tensor]) -> None:
        self.forward, self.params = forward, params

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return self.forward(self.params, query_x.unsqueeze(0))[0]


class L2O(MetaLearner):
    """A coordinatewise LSTM optimizer, meta-trained on a family of optimizee problems."""

    name = "l2o"
    Config = L2OConfig
    task_kinds = frozenset({"optimizee"})

    def __init__(self, config: L2OConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.net = CoordinateLSTM(c.lstm_hidden, c.lstm_layers, c.k, c.output_scale)
        self.model = OPTIMIZEES[c.optimizee]
        self.task_loss = LOSSES[c.loss]

    def task_seed(self, support_x: torch.Tensor, salt: int = 0) -> int:
        """A seed that is a pure function of ``init_seed`` and a meta-batch's data."""
        crc = zlib.crc32(support_x.detach().cpu().contiguous().numpy().tobytes())
        return derive_seed(self.config.init_seed, crc, salt)

    def initial_params(self, support_x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each task's starting point ``theta_0``, from a seed derived from its data: ``[T, ...]``."""
        c = self.config
        params = [self.model.init(1, c.in_channels, c.hidden, c.outputs, seeded_generator(self.task_seed(x)))
                  for x in support_x]
        return {k: torch.cat([p[k] for p in params]).to(support_x) for k in params[0]}

    def objective(self, batch: Episode) -> Callable[[dict[str, torch.Tensor]], torch.Tensor]:
        """``params -> [T]`` objectives, each call on a new minibatch of ``batch_size`` support
        examples (the same positions in every task, drawn from a seed of the data), or on the
        whole support set."""
        x, y = batch.support_x, batch.support_y
        size = self.config.batch_size
        if not size or size >= x.shape[1]:
            return lambda params: self.task_losses(params, x, y)
        generator = seeded_generator(self.task_seed(x, salt=1))

        def minibatch(params: dict[str, torch.Tensor]) -> torch.Tensor:
            picks = torch.randperm(x.shape[1], generator=generator)[:size].to(x.device)
            return self.task_losses(params, x[:, picks], y[:, picks])

        return minibatch

    def task_losses(self, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each task's objective ``[T]`` at ``params`` (``[T, ...]``)."""
        outputs = self.model.forward(params, x)
        return torch.stack([self.task_loss(o, t) for o, t in zip(outputs, y)])

    def trajectory(self, batch: Episode, steps: int, *, meta: bool, truncation: int | None = None) -> Iterator[tuple]:
        """Run the learned optimizer ``steps`` steps on every task of ``batch`` at once.

        Yields ``(losses, params)`` every ``truncation`` steps (and at the end): ``losses`` the
        objectives ``f(theta_t)`` of the steps since the last yield, ``[S, T]``: when ``meta``, on
        the minibatches the steps drew, in the graph to phi; otherwise on the whole support set,
        detached. After a yield the parameters and states are detached (truncated BPTT).
        """
        x, y = batch.support_x, batch.support_y
        objective = self.objective(batch)
        params = {k: v.requires_grad_() for k, v in self.initial_params(x).items()}
        rule = learned(self.net)
        state = rule.init(params)
        second = meta and self.config.second_order
        losses = []
        with torch.enable_grad():
            loss = objective(params)
            for step in range(1, steps + 1):
                grads = dict(zip(params, torch.autograd.grad(loss.sum(), list(params.values()),
                                                             create_graph=second, retain_graph=meta)))
                updates, state = rule.update(grads if second else {k: g.detach() for k, g in grads.items()}, state, params)
                params = {k: params[k] + u for k, u in updates.items()}
                if not meta:
                    params = {k: v.detach().requires_grad_() for k, v in params.items()}
                    state = {k: tuple(s.detach() for s in v) for k, v in state.items()}
                loss = objective(params)
                losses.append(loss if meta else self.task_losses(params, x, y).detach())
                if step == steps or (truncation and step % truncation == 0):
                    yield torch.stack(losses), params
                    losses = []
                    params = {k: v.detach().requires_grad_() for k, v in params.items()}
                    state = {k: tuple(s.detach() for s in v) for k, v in state.items()}
                    loss = objective(params)

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> TrainedOptimizee:
        """Train a fresh optimizee on the task's objective with the learned optimizer."""
        batch = Episode(support_x[None], support_y[None], support_x[None], support_y[None], torch.zeros(1, 0))
        steps = self.config.eval_unroll or self.config.unroll
        *_, (_, params) = self.trajectory(batch, steps, meta=False)
        return TrainedOptimizee(self.model.forward, {k: v.detach() for k, v in params.items()})

    def meta_losses(self, batch: Episode) -> Iterator[MetaLoss]:
        """One meta-update per truncation: the mean objective over its steps and the tasks."""
        for losses, params in self.trajectory(batch, self.config.unroll, meta=True, truncation=self.config.truncation):
            yield self._result(losses, params, batch)

    def meta_loss(self, batch: Episode) -> MetaLoss:
        """The whole unroll's mean objective, not truncated (its gradient is the untruncated one)."""
        (losses, params), = self.trajectory(batch, self.config.unroll, meta=True)
        return self._result(losses, params, batch)

    def _result(self, losses: torch.Tensor, params: dict[str, torch.Tensor], batch: Episode) -> MetaLoss:
        """The meta-loss, the optimizee's outputs on the queries, and its final objective
        (``query_loss``: what ``adapt`` then the query loss give, task by task)."""
        with torch.no_grad():
            outputs = self.model.forward(params, batch.query_x)
        return MetaLoss(loss=losses.mean(), outputs=outputs,
                        metrics={"query_loss": float(self.task_loss(outputs, batch.query_y))})

    def query_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.task_loss(outputs, targets)
