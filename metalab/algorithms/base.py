"""The one contract every meta-learner follows: phi = f_theta(D_train).

A :class:`MetaLearner` holds the meta-parameters theta. :meth:`MetaLearner.adapt` reads a
task's support set and returns a new :class:`TaskModel` phi, which maps queries to
predictions; the learner itself keeps no per-task state, so one learner serves many tasks.
Meta-training minimises :meth:`MetaLearner.meta_loss`, the loss of adapted models on their
queries over a meta-batch, with the shared loop's optimizer. The three families fit it:

- metric-based: ``adapt`` embeds the support set (prototypes, attention memory);
- optimization-based: ``adapt`` runs an inner loop on functional parameters;
- model-based: ``adapt`` writes the support set into a memory.

A method whose outer update is not a gradient of the query loss (Reptile) returns from
``meta_loss`` a surrogate whose gradient is its update direction, e.g.
``0.5 * ||theta - phi.detach()||^2`` whose gradient is ``theta - phi``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from metalab.tasks.episode import Episode


class TaskModel(Protocol):
    """phi: the model of one task, returned by :meth:`MetaLearner.adapt`."""

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        """``[Q, ...]`` inputs -> ``[Q, ways]`` logits (classification) or ``[Q, d]`` outputs."""
        ...


@dataclasses.dataclass(frozen=True)
class MetaLoss:
    """What :meth:`MetaLearner.meta_loss` returns.

    Attributes:
        loss: the scalar to minimise.
        outputs: the adapted models' detached query outputs ``[T, Q, ...]``, which the task
            family scores (accuracy, MSE) for the training log; None if there are none.
        metrics: what the learner itself reports besides (a regularizer's value, the query
            loss when ``loss`` is a surrogate).
    """

    loss: torch.Tensor
    outputs: torch.Tensor | None = None
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Runtime:
    """How a learner computes, not what it computes: never stored in checkpoints.

    Attributes:
        workers: threads that share a meta-batch's tasks (0: one per PyTorch CPU thread, 1 on
            a GPU); used by learners that compute tasks one by one.
        vmap: compute a meta-batch's tasks together with :func:`torch.func.vmap`; None lets
            the learner choose (MAML: on for the MLP backbone, where it is much faster).
    """

    workers: int = 0
    vmap: bool | None = None


class MetaLearner(nn.Module, abc.ABC):
    """Base class of all meta-learners. Subclasses set ``name`` and ``Config`` and implement ``adapt``.

    ``Config`` is a frozen dataclass of the learner's hyperparameters; ``config`` is stored in
    checkpoints so that :func:`metalab.algorithms.build_learner` rebuilds the same learner.
    ``task_kinds`` lists the kinds of task family it can learn (:attr:`metalab.tasks.family.TaskFamily.kind`);
    ``runtime`` holds execution choices (:class:`Runtime`), set freely after construction.
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    task_kinds: ClassVar[frozenset[str]] = frozenset({"classification"})

    def __init__(self, config: Any = None) -> None:
        super().__init__()
        self.config = config if config is not None else self.Config()
        self.runtime = Runtime()
        self.training_step = 0  # meta-updates taken so far, told by the training loop

    @abc.abstractmethod
    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> TaskModel:
        """Read one task's support set (``[N*K, ...]``, labels ``[N*K]``); return its task model.

        ``ways`` is the number of classes, or 0 for a task without classes (regression).
        """

    def set_training_step(self, step: int) -> None:
        """Told by the training loop before each meta-update: how many it has taken. A learner
        whose objective changes over training reads it (MAML++'s annealed multi-step loss and
        first-order phase); it is the run's step, so a resumed run sees the same values."""
        self.training_step = step

    def prior(self) -> TaskModel | None:
        """The task model before any support set is read, where there is one (MAML's
        initialisation; plots show it beside the adapted model)."""
        return None

    def meta_loss(self, batch: Episode) -> MetaLoss:
        """Mean query loss of the adapted models over a batched episode.

        Learners override this to compute the whole meta-batch at once where that is faster;
        the result must equal this per-task definition.
        """
        losses, outputs = [], []
        for t in range(batch.tasks):
            task = batch.task(t)
            logits = self.adapt(task.support_x, task.support_y, task.ways)(task.query_x)
            losses.append(self.query_loss(logits, task.query_y))
            outputs.append(logits.detach())
        return MetaLoss(loss=torch.stack(losses).mean(), outputs=torch.stack(outputs))

    def meta_losses(self, batch: Episode) -> Iterator[MetaLoss]:
        """The meta-losses the training loop takes one optimizer step on each, in order: by
        default the one :meth:`meta_loss`. A learner whose tasks are long unrolls (a learned
        optimizer) yields one per truncation of the unroll, carrying its state between them."""
        yield self.meta_loss(batch)

    def query_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean loss of query logits ``[..., Q, ways]`` against labels ``[..., Q]``.

        Cross-entropy, unless a method trains its scores with another loss (binary
        cross-entropy for Siamese networks, squared error for Relation Networks).
        """
        return F.cross_entropy(logits.flatten(0, -2), labels.flatten())

    @torch.no_grad()
    def predict(self, episode: Episode) -> torch.Tensor:
        """Query logits for a batched episode: ``[T, N*Q, ways]`` (used by evaluation)."""
        return torch.stack(
            [
                self.adapt(task.support_x, task.support_y, task.ways)(task.query_x)
                for task in (episode.task(t) for t in range(episode.tasks))
            ]
        )


class BatchedMetaLearner(MetaLearner):
    """A learner that computes a whole meta-batch's query logits at once.

    Subclasses implement :meth:`query_logits`; ``meta_loss`` and ``predict`` follow from it
    (and must equal the per-task definition of :class:`MetaLearner` in eval mode).
    """

    @abc.abstractmethod
    def query_logits(self, batch: Episode) -> torch.Tensor:
        """All tasks' query logits: ``[T, N*Q, ways]``."""

    def meta_loss(self, batch: Episode) -> MetaLoss:
        logits = self.query_logits(batch)
        return MetaLoss(loss=self.query_loss(logits, batch.query_y), outputs=logits.detach())

    @torch.no_grad()
    def predict(self, episode: Episode) -> torch.Tensor:
        return self.query_logits(episode)
