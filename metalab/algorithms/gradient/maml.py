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

MAML++ (Antoniou, Edwards & Storkey, ICLR 2019, "How to train your MAML", Sec. 4) is a set of
options, each off by default: ``multi_step_loss`` (MSL: the query loss after every inner step,
weighted, the weights annealed towards the last step), ``per_step_bn`` (BNWB: batch-norm
weights and biases per inner step, meta-learned, not adapted), ``learned_lrs`` (LSLR: a
learned inner rate per parameter tensor and step) and ``first_order_until`` (DA: first-order
meta-gradients for the first meta-updates). Cosine annealing of the meta learning rate (CA) is
the training loop's ``schedule: cosine`` (its default). MAML++'s per-step batch-norm *statistics* (BNRS)
have no counterpart: the batch norm here always normalises by the batch's statistics (as
MAML++'s code does at test time too), so there are no running statistics to keep per step.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import ClassVar

import torch
from torch import nn
from torch.func import functional_call

from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.algorithms.gradient._parallel import default_workers, parallel_mean_loss
from metalab.checks import fail, option, validate
from metalab.errors import ConfigError
from metalab.models.backbones import BACKBONES, REGISTER_HINT, VECTOR_BACKBONES, WithHead, build_encoder, input_shape
from metalab.optim import Params, UpdateRule, inner_path, per_step_sgd, sgd
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
        multi_step_loss: MAML++'s MSL: the meta-loss is a weighted sum of the query losses
            after each inner step; the weights start equal and anneal linearly over
            ``msl_anneal_steps`` meta-updates to 0.03/steps for every step but the last.
        msl_anneal_steps: meta-updates over which the multi-step loss's weights anneal.
        per_step_bn: MAML++'s BNWB: batch-norm weights and biases per inner step (steps beyond
            ``inner_steps`` at test time use the last step's); they are meta-learned only.
        learned_lrs: MAML++'s LSLR: the inner step size is learned per parameter tensor and
            per step, starting at ``inner_lr``.
        first_order_until: MAML++'s DA: the first ``first_order_until`` meta-updates drop
            second derivatives (cheaper; MAML++ found second order early is not needed).
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
    multi_step_loss: bool = False
    msl_anneal_steps: int = option(1000, minimum=1)
    per_step_bn: bool = False
    learned_lrs: bool = False
    first_order_until: int = option(0, minimum=0, meaning=" (meta-updates; 0: none)")

    def __post_init__(self) -> None:
        validate(self)
        if self.backbone not in VECTOR_BACKBONES and self.image_size < 16:
            fail(f"image_size must be an integer >= 16 for the {self.backbone} backbone, got {self.image_size!r}",
                 "image_size")


def _key(name: str) -> str:
    return name.replace(".", "__")  # parameter names as ParameterDict keys


def step_weights(steps: int, updates: int, anneal: int) -> list[float]:
    """MAML++'s multi-step loss weights after ``updates`` meta-updates (Antoniou et al. 2019,
    Sec. 4, MSL): ``1/steps`` each at first; every weight but the last decays linearly to
    ``0.03/steps`` over ``anneal`` updates, and the last takes up the rest."""
    if steps == 1:
        return [1.0]
    decay = updates / (steps * anneal)
    early = max(1 / steps - decay, 0.03 / steps)
    return [early] * (steps - 1) + [1 - (steps - 1) * early]


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
    unsupported: ClassVar[frozenset[str]] = frozenset()  # MAML++ options a relative cannot use

    def __init__(self, config: MAMLConfig | None = None) -> None:
        super().__init__(config)  # None: the class's Config() (a relative's own defaults)
        c = self.config
        for field in dataclasses.fields(c):
            if field.name in self.unsupported and getattr(c, field.name) != field.default:
                fail(f"{field.name} is not an option of {self.name}; leave it at {field.default!r}", field.name)
        self.model = build_model(c)
        self.task_loss = LOSSES[c.loss]
        norms = [f"{m}.{p}" for m, module in self.model.named_modules()
                 if isinstance(module, nn.modules.batchnorm._BatchNorm) for p in ("weight", "bias")]
        self.step_norm_names = frozenset(norms if c.per_step_bn else ())
        if c.per_step_bn:
            if not norms:
                fail(f"per_step_bn needs batch norm in the backbone; {c.backbone} has none", "per_step_bn")
            params = dict(self.model.named_parameters())
            self.step_norms = nn.ParameterDict(
                {_key(k): nn.Parameter(params[k].detach().repeat(c.inner_steps, 1)) for k in norms})
        if c.learned_lrs:
            self.step_rates = nn.ParameterDict(
                {_key(k): nn.Parameter(torch.full((c.inner_steps,), c.inner_lr))
                 for k, _ in self.model.named_parameters() if self._inner_changes(k)})

    # The three things relatives change -------------------------------------------------
    def inner_rule(self, outer: bool) -> UpdateRule:
        """The inner-loop update rule (Meta-SGD: learned rates; ``outer``: meta-training)."""
        if not self.config.learned_lrs:
            return sgd(self.config.inner_lr)
        rates = {k: self.step_rates[_key(k)] for k, _ in self.model.named_parameters() if self._inner_changes(k)}
        return per_step_sgd(rates if outer else {k: r.detach() for k, r in rates.items()})

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

    def _inner_changes(self, name: str) -> bool:
        """Whether the inner loop steps parameter ``name`` (per-step norms are swapped in instead)."""
        return self.is_adapted(name) and name not in self.step_norm_names

    def at_step(self, params: Params, step: int, outer: bool = True) -> Params:
        """``params`` with inner step ``step``'s batch-norm weights (``per_step_bn``; the last
        trained step's beyond ``inner_steps``), else ``params`` unchanged."""
        if not self.step_norm_names:
            return params
        i = min(step, self.config.inner_steps - 1)
        norms = {k: self.step_norms[_key(k)][i] for k in self.step_norm_names}
        return {**params, **(norms if outer else {k: v.detach() for k, v in norms.items()})}

    def fast_path(
        self, support_x: torch.Tensor, support_y: torch.Tensor, *, steps: int, outer: bool, model: nn.Module | None = None
    ) -> list[Params]:
        """The parameters after each inner step for one task, each with its step's batch-norm
        weights (MAML++ scores the queries after step ``i`` with step ``i``'s). ``outer``: keep
        the graph to theta for the meta-gradient.

        ``model``: the module to evaluate on the parameters, if not ``self.model`` (a replica
        of it for a worker thread; its own parameters are never read).
        """
        model = model or self.model
        theta = dict(self.model.named_parameters())
        if not outer:  # evaluation: nothing flows back to theta
            theta = {k: v.detach().requires_grad_() for k, v in theta.items()}

        def support_loss(params: Params, step: int) -> torch.Tensor:
            return self.task_loss(functional_call(model, self.at_step(params, step, outer), (support_x,)), support_y)

        first_order = self.config.first_order or not outer or self.training_step < self.config.first_order_until
        with torch.enable_grad():
            path = inner_path(
                support_loss, theta, steps=steps, rule=self.inner_rule(outer), adapted=self._inner_changes,
                first_order=first_order, functional=self.vmapped and outer, stepwise=True,
            )
        path = [self.at_step(params, step, outer) for step, params in enumerate(path)]
        return path if outer else [{k: v.detach() for k, v in params.items()} for params in path]

    def fast_weights(
        self, support_x: torch.Tensor, support_y: torch.Tensor, *, steps: int, outer: bool, model: nn.Module | None = None
    ) -> Params:
        """theta' for one task: the last of :meth:`fast_path`."""
        return self.fast_path(support_x, support_y, steps=steps, outer=outer, model=model)[-1]

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
        """One task's query loss and outputs after the inner loop (in the meta-gradient's graph);
        with ``multi_step_loss``, the weighted sum of the query losses after every step."""
        c = self.config
        path = self.fast_path(support_x, support_y, steps=c.inner_steps, outer=True, model=model)
        if not c.multi_step_loss:
            path = path[-1:]
        weights = step_weights(len(path), self.training_step, c.msl_anneal_steps)
        outputs = [AdaptedModel(model or self.model, fast)(query_x) for fast in path]
        loss = sum(w * self.task_loss(out, query_y) for w, out in zip(weights, outputs))
        return loss, outputs[-1]

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
