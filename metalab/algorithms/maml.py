"""Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017).

``adapt`` takes ``inner_steps`` gradient steps from the meta-learned initialisation theta on
the support loss (Eq. 1: ``theta'_i = theta - alpha * grad_theta L_Ti(f_theta)``);
meta-training minimises the adapted models' query loss over tasks (Eq. 6:
``min_theta sum_i L_Ti(f_theta'_i)``), differentiating through the inner steps (second order)
unless ``first_order``. Classification uses cross-entropy, regression (float targets, e.g.
the sinusoid tasks) the mean squared error, as in the paper.

The backbone (:mod:`metalab.models.backbones`) is Conv-4 with batch norm on the current
batch's statistics for images, or the 40-40 ReLU MLP for vector inputs (sinusoid). The
relatives in this package (first-order MAML, ANIL, Meta-SGD, Reptile, TAML) subclass
:class:`MAML` and change one thing each.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn

from metalab.algorithms._inner import AdaptedModel, Params, UpdateRule, inner_loop, sgd, task_loss
from metalab.algorithms._parallel import default_workers, parallel_mean_loss
from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.errors import ConfigError
from metalab.models.backbones import MLP, ConvClassifier
from metalab.tasks.episode import Episode

BACKBONES = ("conv4", "mlp")


@dataclasses.dataclass(frozen=True)
class MAMLConfig:
    """Hyperparameters of :class:`MAML` and its relatives (defaults: Finn et al. 2017, Omniglot).

    Attributes:
        backbone: ``conv4`` (images ``[C, S, S]``) or ``mlp`` (vectors ``[in_channels]``).
        in_channels: image channels, or input features for ``mlp``.
        image_size: side of the input images (``conv4``).
        hidden: filters per conv block (64) or MLP width (40 for sinusoid).
        outputs: head size: the ways of the tasks it is trained on, or the target dimension.
        inner_steps: inner gradient steps during meta-training (Omniglot: 1).
        inner_lr: inner step size alpha (Omniglot: 0.4; sinusoid: 0.01).
        eval_inner_steps: inner steps when adapting outside training (``adapt`` called with
            grad disabled, as in evaluation); None = ``inner_steps``. Finn et al. take more
            steps at test time than in training; 10 lets an early initialisation fit the
            support set (5-way 1-shot after 40 meta-steps of the contract suite: 45% with 3 steps,
            above 60% with 10).
        first_order: drop the second derivatives (first-order MAML).
        vmap: compute a meta-batch's tasks together with :func:`torch.func.vmap` (same
            result; 13x faster for the sinusoid MLP, 1.7x slower for Conv-4 on the CPU, see
            ``results/maml_speed.md``).
        workers: threads that share a meta-batch's tasks, each running one PyTorch thread
            (:mod:`metalab.algorithms._parallel`); 0 = as many as PyTorch's CPU threads, 1 on a
            GPU. Used by MAML, first-order MAML, ANIL and Meta-SGD without ``vmap``; Reptile and
            TAML compute the whole meta-batch in one graph.
    """

    backbone: str = "conv4"
    in_channels: int = 1
    image_size: int = 28
    hidden: int = 64
    outputs: int = 5
    inner_steps: int = 1
    inner_lr: float = 0.4
    eval_inner_steps: int | None = 10
    first_order: bool = False
    vmap: bool = False
    workers: int = 0

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ConfigError(f"backbone must be one of {BACKBONES}, got {self.backbone!r}")
        for name in ("in_channels", "hidden", "outputs", "inner_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if self.eval_inner_steps is not None and (not isinstance(self.eval_inner_steps, int) or self.eval_inner_steps < 1):
            raise ConfigError(f"eval_inner_steps must be an integer >= 1 or None, got {self.eval_inner_steps!r}")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise ConfigError(f"workers must be an integer >= 0 (0: one per CPU thread), got {self.workers!r}")
        if not self.inner_lr > 0:
            raise ConfigError(f"inner_lr must be positive, got {self.inner_lr!r}")
        if self.backbone == "conv4" and self.image_size < 16:
            raise ConfigError(f"image_size must be >= 16 for the conv4 backbone, got {self.image_size!r}")


def build_backbone(config: MAMLConfig) -> torch.nn.Module:
    if config.backbone == "mlp":
        return MLP(config.in_channels, config.hidden, config.outputs)
    return ConvClassifier(config.in_channels, config.hidden, config.outputs, config.image_size)


class MAML(MetaLearner):
    """MAML: a meta-learned initialisation adapted by gradient steps on the support set."""

    name = "maml"
    Config = MAMLConfig

    def __init__(self, config: MAMLConfig = MAMLConfig()) -> None:
        super().__init__(config)
        self.model = build_backbone(config)

    # The three things relatives change -------------------------------------------------
    def inner_rule(self, outer: bool) -> UpdateRule:
        """The inner-loop update rule (Meta-SGD: learned rates; ``outer``: meta-training)."""
        return sgd(self.config.inner_lr)

    def is_adapted(self, name: str) -> bool:
        """Which backbone parameters the inner loop changes (ANIL: the head only)."""
        return True

    def task_objective(self, batch: Episode) -> MetaLoss:
        """The meta-loss of a batched episode: the mean query loss (Reptile and TAML override this).

        With several workers and grad enabled, the tasks are shared among threads
        (:func:`~metalab.algorithms._parallel.parallel_mean_loss`): same value, same gradient.
        """
        workers = min(self.config.workers or default_workers(batch.query_x.device), batch.tasks)
        if workers > 1 and not self.config.vmap and torch.is_grad_enabled():
            params = [p for p in self.parameters() if p.requires_grad]
            tasks = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)

            def make_task_fn():  # each thread evaluates its own replica (functional_call swaps parameters in place)
                replica = copy.deepcopy(self.model)
                return lambda t: self._adapted_loss(*(part[t] for part in tasks), model=replica)

            loss, outputs = parallel_mean_loss(make_task_fn, batch.tasks, params, workers)
            return MetaLoss(loss=loss, metrics=query_metrics(outputs, batch.query_y))
        losses, _, metrics = self.query_losses(batch)
        return MetaLoss(loss=losses.mean(), metrics=metrics)

    # The shared machinery ----------------------------------------------------------------
    def fast_weights(
        self, support_x: torch.Tensor, support_y: torch.Tensor, *, steps: int, outer: bool, model: nn.Module | None = None
    ) -> Params:
        """theta' for one task. ``outer``: keep the graph to theta for the meta-gradient.

        ``model``: the module to evaluate on the parameters, if not ``self.model`` (a replica
        of it for a worker thread; its own parameters are never read).
        """
        theta = dict(self.model.named_parameters())
        if not outer:  # evaluation: nothing flows back to theta
            theta = {k: v.detach().requires_grad_() for k, v in theta.items()}
        with torch.enable_grad():
            fast = inner_loop(
                model or self.model, theta, support_x, support_y, steps=steps, rule=self.inner_rule(outer),
                adapted=self.is_adapted, first_order=self.config.first_order or not outer,
                functional=self.config.vmap and outer,
            )
        return fast if outer else {k: v.detach() for k, v in fast.items()}

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> AdaptedModel:
        """phi for one task: ``[N*K, ...]`` support, labels ``[N*K]`` (or ``[K, d]`` floats).

        Runs the inner loop with grad enabled even under ``torch.no_grad()``; under no_grad
        (evaluation) it takes ``eval_inner_steps`` steps and returns detached parameters.
        """
        self._check_ways(support_y, ways)
        outer = torch.is_grad_enabled()
        steps = self.config.inner_steps if outer else (self.config.eval_inner_steps or self.config.inner_steps)
        return AdaptedModel(self.model, self.fast_weights(support_x, support_y, steps=steps, outer=outer))

    def meta_loss(self, batch: Episode) -> MetaLoss:
        for t in range(batch.tasks):  # errors before any work
            self._check_ways(batch.support_y[t], batch.ways)
        return self.task_objective(batch)

    def _adapted_loss(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor,
        model: nn.Module | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One task's query loss and outputs after the inner loop (in the meta-gradient's graph)."""
        fast = self.fast_weights(support_x, support_y, steps=self.config.inner_steps, outer=True, model=model)
        outputs = AdaptedModel(model or self.model, fast)(query_x)
        return task_loss(outputs, query_y), outputs

    def query_losses(self, batch: Episode) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """Per-task query losses ``[T]`` and outputs ``[T, Q, ...]`` of the adapted models
        (both in the meta-gradient's graph), and the mean accuracy or MSE."""
        tasks = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
        if self.config.vmap:
            losses, outputs = torch.func.vmap(self._adapted_loss)(*tasks)
        else:
            losses, outputs = (torch.stack(v) for v in zip(*(self._adapted_loss(*task) for task in zip(*tasks))))
        return losses, outputs, query_metrics(outputs.detach(), batch.query_y)

    def _check_ways(self, support_y: torch.Tensor, ways: int) -> None:
        if not support_y.is_floating_point() and ways != self.config.outputs:
            raise ConfigError(
                f"{self.name} has a head of {self.config.outputs} outputs but the task is {ways}-way; "
                f"train with --ways {ways} (or set outputs={ways})"
            )


def query_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """``accuracy`` (classification) or ``mse`` (regression) of ``[T, Q, ...]`` outputs."""
    if targets.is_floating_point():
        return {"mse": float((outputs - targets).pow(2).mean())}
    return {"accuracy": float((outputs.argmax(-1) == targets).float().mean())}
