"""Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017).

``adapt`` takes ``inner_steps`` gradient steps from the meta-learned initialisation theta on
the support loss (Eq. 1: ``theta'_i = theta - alpha * grad_theta L_Ti(f_theta)``);
meta-training minimises the adapted models' query loss over tasks (Eq. 6:
``min_theta sum_i L_Ti(f_theta'_i)``), differentiating through the inner steps (second order)
unless ``first_order``. The loss is the task family's (``loss``: cross-entropy for
classification, mean squared error for regression, as in the paper).

The model is a backbone from :mod:`metalab.models.backbones` with a linear head: Conv-4 with
batch norm on the current batch's statistics for images, or the 40-40 ReLU MLP for vectors
(sinusoid). The inner loop is :func:`metalab.optim.inner_loop` with the update rule of
:meth:`MAML.inner_rule`. The relatives in this package (first-order MAML, ANIL, Meta-SGD,
Reptile, TAML) subclass :class:`MAML` and change one thing each.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn
from torch.func import functional_call

from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.algorithms.gradient._parallel import default_workers, parallel_mean_loss
from metalab.checks import fail, option, validate
from metalab.errors import ConfigError
from metalab.models.backbones import BACKBONES, REGISTER_HINT, VECTOR_BACKBONES, WithHead, build_encoder, input_shape
from metalab.optim import Params, UpdateRule, inner_loop, sgd
from metalab.tasks.episode import Episode
from metalab.tasks.losses import LOSSES


@dataclasses.dataclass(frozen=True)
class MAMLConfig:
    """Hyperparameters of :class:`MAML` and its relatives (defaults: Finn et al. 2017, Omniglot).

    Attributes:
        backbone: a name from :data:`metalab.models.backbones.BACKBONES`: ``conv4`` (images
            ``[C, S, S]``) or ``mlp`` (vectors ``[in_channels]``).
        in_channels: image channels, or input features for ``mlp``.
        image_size: side of the input images (image backbones).
        hidden: filters per conv block (64) or MLP width (40 for sinusoid).
        outputs: head size: the ways of the tasks it is trained on, or the target dimension.
        inner_steps: inner gradient steps during meta-training (Omniglot: 1).
        inner_lr: inner step size alpha (Omniglot: 0.4; sinusoid: 0.01).
        eval_inner_steps: inner steps when adapting outside training (``adapt`` called with
            grad disabled, as in evaluation); None = ``inner_steps``. Finn et al. take more
            steps at test time than in training; 10 lets an early initialisation fit the
            support set.
        first_order: drop the second derivatives (first-order MAML).
        loss: the task loss, a key of :data:`metalab.tasks.losses.LOSSES` (the task family
            sets it: ``cross_entropy`` or ``mse``).
    """

    backbone: str = option("conv4", choices=BACKBONES, meaning=REGISTER_HINT)
    in_channels: int = option(1, minimum=1)
    image_size: int = option(28, minimum=1)
    hidden: int = option(64, minimum=1)
    outputs: int = option(5, minimum=1)
    inner_steps: int = option(1, minimum=1)
    inner_lr: float = option(0.4, above=0)
    eval_inner_steps: int | None = option(10, minimum=1, meaning=" (None: as inner_steps)")
    first_order: bool = False
    loss: str = option("cross_entropy", choices=LOSSES)

    def __post_init__(self) -> None:
        validate(self)
        if self.backbone not in VECTOR_BACKBONES and self.image_size < 16:
            fail(f"image_size must be an integer >= 16 for the {self.backbone} backbone, got {self.image_size!r}",
                 "image_size")


def build_model(config: MAMLConfig) -> nn.Module:
    """The backbone (batch norm on batch statistics) with a linear head of ``outputs``."""
    body = build_encoder(config.backbone, in_channels=config.in_channels, hidden=config.hidden, running_stats=False)
    return WithHead(body, config.outputs, input_shape(config.backbone, config.in_channels, config.image_size))


class AdaptedModel:
    """phi: a module evaluated on one task's adapted parameters (no state on the learner).

    ``phi(query_x) -> [Q, ways]`` logits (or ``[Q, d]`` regression outputs).
    """

    def __init__(self, model: nn.Module, params: Params) -> None:
        self.model, self.params = model, params

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, self.params, (query_x,))


class MAML(MetaLearner):
    """MAML: a meta-learned initialisation adapted by gradient steps on the support set.

    Runtime options (:class:`~metalab.algorithms.base.Runtime`): ``workers`` threads share a
    meta-batch's tasks (MAML, first-order MAML, ANIL and Meta-SGD; Reptile and TAML compute
    the whole meta-batch in one graph); ``vmap`` computes them together with
    :func:`torch.func.vmap` (same result; by default on for vector backbones, where it is
    much faster, and off for Conv-4, where it is slower on the CPU: ``results/speed/maml_meta_step/README.md``).
    """

    name = "maml"
    Config = MAMLConfig
    task_kinds = frozenset({"classification", "regression"})

    def __init__(self, config: MAMLConfig | None = None) -> None:
        super().__init__(config)  # None: the class's Config() (a relative's own defaults)
        self.model = build_model(self.config)
        self.task_loss = LOSSES[self.config.loss]

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
        (:func:`~metalab.algorithms.gradient._parallel.parallel_mean_loss`): same value, same gradient.
        """
        workers = min(self.runtime.workers or default_workers(batch.query_x.device), batch.tasks)
        if workers > 1 and not self.vmapped and torch.is_grad_enabled():
            params = [p for p in self.parameters() if p.requires_grad]
            tasks = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)

            def make_task_fn():  # each thread evaluates its own replica (functional_call swaps parameters in place)
                replica = copy.deepcopy(self.model)
                return lambda t: self._adapted_loss(*(part[t] for part in tasks), model=replica)

            loss, outputs = parallel_mean_loss(make_task_fn, batch.tasks, params, workers)
            return MetaLoss(loss=loss, outputs=outputs)
        losses, outputs = self.query_losses(batch)
        return MetaLoss(loss=losses.mean(), outputs=outputs.detach())

    # The shared machinery ----------------------------------------------------------------
    @property
    def vmapped(self) -> bool:
        """Whether meta-training vmaps over tasks (the runtime's choice, else the backbone's)."""
        return self.runtime.vmap if self.runtime.vmap is not None else self.config.backbone in VECTOR_BACKBONES

    def fast_weights(
        self, support_x: torch.Tensor, support_y: torch.Tensor, *, steps: int, outer: bool, model: nn.Module | None = None
    ) -> Params:
        """theta' for one task. ``outer``: keep the graph to theta for the meta-gradient.

        ``model``: the module to evaluate on the parameters, if not ``self.model`` (a replica
        of it for a worker thread; its own parameters are never read).
        """
        model = model or self.model
        theta = dict(self.model.named_parameters())
        if not outer:  # evaluation: nothing flows back to theta
            theta = {k: v.detach().requires_grad_() for k, v in theta.items()}

        def support_loss(params: Params) -> torch.Tensor:
            return self.task_loss(functional_call(model, params, (support_x,)), support_y)

        with torch.enable_grad():
            fast = inner_loop(
                support_loss, theta, steps=steps, rule=self.inner_rule(outer), adapted=self.is_adapted,
                first_order=self.config.first_order or not outer, functional=self.vmapped and outer,
            )
        return fast if outer else {k: v.detach() for k, v in fast.items()}

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> AdaptedModel:
        """phi for one task: ``[N*K, ...]`` support, labels ``[N*K]`` (or ``[K, d]`` floats, ``ways`` 0).

        Runs the inner loop with grad enabled even under ``torch.no_grad()``; under no_grad
        (evaluation) it takes ``eval_inner_steps`` steps and returns detached parameters.
        """
        self._check_ways(ways)
        outer = torch.is_grad_enabled()
        steps = self.config.inner_steps if outer else (self.config.eval_inner_steps or self.config.inner_steps)
        return AdaptedModel(self.model, self.fast_weights(support_x, support_y, steps=steps, outer=outer))

    def query_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The task family's loss (``config.loss``), on queries as on the support set."""
        return self.task_loss(outputs, targets)

    def prior(self) -> AdaptedModel:
        return AdaptedModel(self.model, dict(self.model.named_parameters()))

    def meta_loss(self, batch: Episode) -> MetaLoss:
        self._check_ways(batch.ways)  # errors before any work
        return self.task_objective(batch)

    def _adapted_loss(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor,
        model: nn.Module | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One task's query loss and outputs after the inner loop (in the meta-gradient's graph)."""
        fast = self.fast_weights(support_x, support_y, steps=self.config.inner_steps, outer=True, model=model)
        outputs = AdaptedModel(model or self.model, fast)(query_x)
        return self.task_loss(outputs, query_y), outputs

    def query_losses(self, batch: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-task query losses ``[T]`` and outputs ``[T, Q, ...]`` of the adapted models
        (both in the meta-gradient's graph)."""
        tasks = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
        if self.vmapped:
            return torch.func.vmap(self._adapted_loss)(*tasks)
        losses, outputs = zip(*(self._adapted_loss(*task) for task in zip(*tasks)))
        return torch.stack(losses), torch.stack(outputs)

    def _check_ways(self, ways: int) -> None:
        if ways and ways != self.config.outputs:
            raise ConfigError(
                f"{self.name} has a head of {self.config.outputs} outputs but the task is {ways}-way; "
                f"train it with ways={ways} (or set outputs={ways})", fields=("ways", "outputs"),
            )
