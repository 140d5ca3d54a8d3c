"""MAML for reinforcement learning (Finn, Abbeel & Levine 2017, Sec. 3.2 and 5.3).

The same MAML (:class:`~metalab.algorithms.gradient.maml.MAML`'s inner rule and adapted
parameters, :func:`metalab.optim.inner_loop`) with a policy-gradient loss closure: each call
of the closure collects ``K`` trajectories with the current (adapted) policy, fits the linear
feature baseline and returns the vanilla policy-gradient loss (Eq. 4, REINFORCE with
advantages), so one inner step is ``theta' = theta - alpha grad L_Ti(f_theta)`` with
``alpha = 0.1``. The meta-objective is the return of the adapted policies on new
trajectories, differentiated through the inner step (second order unless ``first_order``).

The outer update is TRPO (:func:`metalab.optim.trpo.trpo_step`, ``delta = 0.01``) on the
importance-sampled surrogate of the adapted policies, with the KL between the adapted
policies before and after the update, as in the paper. TRPO takes its own step, so with
``outer="trpo"`` the meta-losses this learner yields carry no gradient and the training
loop's optimizer leaves the parameters alone; ``outer="loop"`` instead hands the
differentiable surrogate to the loop's optimizer (Adam).

All tasks of a meta-batch are computed at once: the parameters get a leading task
dimension, the simulator steps every task's trajectories together, and the inner loss is
the sum of the tasks' losses (so each task's copy of the parameters gets its own gradient).
The policy's sampling noise comes from the episode's rollout seed and the step index.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

import torch

from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.algorithms.gradient.maml import MAML
from metalab.checks import option, validate
from metalab.models.policies import GaussianMLP
from metalab.optim import Params, UpdateRule, chain, inner_loop, per_step_sgd, scale_by, sgd
from metalab.optim.policy_gradient import advantages, masked_task_mean, ratio_surrogate, reinforce_surrogate
from metalab.optim.trpo import trpo_step
from metalab.tasks.episode import Episode
from metalab.tasks.control import Rollouts
from metalab.tasks.simulators import SIMULATORS
from metalab.tasks.seeding import derive_seed, seeded_generator

OUTER_UPDATES = ("trpo", "loop")


@dataclasses.dataclass(frozen=True)
class MAMLRLConfig:
    """Hyperparameters of :class:`MAMLRL` (defaults: Finn et al. 2017, 2D navigation).

    Attributes:
        env: the simulator, a key of :data:`metalab.tasks.simulators.SIMULATORS` (the family sets it).
        hidden, layers, init_std: the Gaussian MLP policy (2 x 100 ReLU, initial std 1).
        action_scale: the simulator receives ``action_scale * a`` for the policy's action ``a``,
            so the Gaussian (its mean, std and log-likelihood) lives in units of
            ``action_scale``. Finn et al.'s public code wraps the point robot in rllab's
            ``normalize``, whose policy acts in ``[-1, 1]`` for velocities in ``[-0.1, 0.1]``:
            ``action_scale=0.1`` there (std 1 is then a velocity std of 0.1). 1 (default): the
            simulator's own units.
        inner_steps: policy-gradient steps in meta-training (1); inner_lr: their size (0.1).
        log_std_lr: a separate inner step size for the policy's log-std (None: ``inner_lr``). The
            mean's policy gradient grows as ``1 / std`` while the log-std's does not, so a smaller
            ``init_std`` needs a smaller ``inner_lr`` for the mean and not for the log-std.
        later_lr_factor: steps after the first take ``later_lr_factor`` times the first's step
            sizes (1: all equal). Finn et al.'s public test script for the point robot takes
            its test-time steps at half the meta-training step size.
        later_std_factor: every step after the first also multiplies the policy's std by this
            factor (exploration narrows as the policy nears its goal: later trajectories are
            both returns and the next step's data), and a step learns on trajectories whose std
            was shrunk by ``m`` with its mean's step times ``m ** 2``: the policy gradient of
            the mean grows as ``1 / std`` and its Fisher information as ``1 / std ** 2``, so the
            natural step in action space keeps its size. 1 (default): the std moves only by
            its policy-gradient step, as in Finn et al. 2017. A metalab option, not the paper's.
        eval_inner_steps: steps when adapting outside training; returns are reported after
            each of ``0..eval_inner_steps`` (3, as the paper's Table 4).
        first_order: treat ``d theta' / d theta`` as the identity.
        discount: of the returns the advantages use (0.99); undiscounted returns are reported.
        center_advantages: standardise each task's advantages.
        outer: ``trpo`` (the learner's own step) or ``loop`` (the loop's optimizer on the surrogate).
        max_kl, cg_iters, cg_damping, backtracks: TRPO's step (0.01, 10, 1e-5, 15).
        curvature: the trust region's metric in the conjugate-gradient products: ``exact``, the
            Hessian of the adapted policies' KL through the inner step (third derivatives of
            the policy), or ``adapted`` (default, several times faster): the adapted policies'
            Fisher with ``d theta' / d theta`` taken as the identity in those products only.
            The gradient and the line search's KL check are exact either way.
        fisher_stride: the ``adapted`` metric uses every ``fisher_stride``-th time step's
            states (Schulman et al. 2015 estimate it on a subsample too).
    """

    env: str = option("navigation2d", choices=SIMULATORS)
    hidden: int = option(100, minimum=1)
    layers: int = option(2, minimum=1)
    init_std: float = option(1.0, above=0)
    action_scale: float = option(1.0, above=0)
    inner_steps: int = option(1, minimum=0)
    inner_lr: float = option(0.1, above=0)
    log_std_lr: float | None = option(None, minimum=0, meaning=" (None: as inner_lr)")
    later_lr_factor: float = option(1.0, above=0)
    later_std_factor: float = option(1.0, above=0)
    eval_inner_steps: int | None = option(3, minimum=0, meaning=" (None: as inner_steps)")
    first_order: bool = False
    discount: float = option(0.99, above=0, maximum=1)
    center_advantages: bool = True
    outer: str = option("trpo", choices=OUTER_UPDATES)
    max_kl: float = option(0.01, above=0)
    cg_iters: int = option(10, minimum=1)
    cg_damping: float = option(1e-5, above=0)
    backtracks: int = option(15, minimum=1)
    curvature: str = option("adapted", choices=("adapted", "exact"))
    fisher_stride: int = option(4, minimum=1)

    def __post_init__(self) -> None:
        validate(self)


class _Sampler:
    """Trajectories of one meta-batch for each adaptation step, collected once and replayed.

    ``closure()`` is the inner loop's loss: its ``k``-th call collects (or replays) step
    ``k``'s trajectories with the parameters it is given (detached: the sampling distribution
    is not differentiated) and returns the summed policy-gradient loss of the tasks.
    """

    def __init__(self, learner: MAMLRL, goals: torch.Tensor, seeds: list[int]) -> None:
        self.learner, self.goals, self.seeds = learner, goals, seeds
        self.batches: list[tuple[Rollouts, torch.Tensor]] = []

    def collect(self, params: Params, step: int, trajectories: int) -> tuple[Rollouts, torch.Tensor]:
        """Step ``step``'s ``[T, K, H]`` rollouts and advantages (collected on first use)."""
        if step < len(self.batches):
            return self.batches[step]
        learner, env = self.learner, self.learner.env
        policy = learner.policy
        with torch.no_grad():
            params = {k: v.detach() for k, v in params.items()}
            noise = torch.stack([torch.randn(trajectories, env.horizon, env.actions,
                                             generator=seeded_generator(derive_seed(s, step))) for s in self.seeds])
            noise = noise.to(self.goals) * params["log_std"].exp()[:, :, None, :]
            scale = learner.config.action_scale

            def act(observations: torch.Tensor, t: int) -> torch.Tensor:
                return (policy.mean(params, observations) + noise[:, :, t]) * scale

            rollouts = env.rollout(act, self.goals, trajectories, [derive_seed(s, step, 1) for s in self.seeds])
            adv = advantages(rollouts.observations, rollouts.rewards, rollouts.mask, learner.config.discount,
                             learner.config.center_advantages)
        self.batches.append((rollouts, adv))
        return rollouts, adv

    def closure(self, trajectories: int) -> Callable[[Params], torch.Tensor]:
        calls = [0]

        def loss(params: Params) -> torch.Tensor:
            rollouts, adv = self.collect(params, calls[0], trajectories)
            calls[0] += 1
            log_prob = self.learner.log_prob(params, rollouts)
            return reinforce_surrogate(log_prob, adv, rollouts.mask).sum()

        return loss


def _narrowing_std(factor: float) -> UpdateRule:
    """``later_std_factor``: step ``i >= 1`` adds ``log factor`` to the log-std's update, and
    step ``i`` (whose trajectories had the std times ``m = factor ** max(0, i - 1)``) scales the
    other parameters' updates by ``m ** 2``. The state is the step's index."""
    def update(updates: Params, step: int, params: Params) -> tuple[Params, int]:
        m2 = factor ** (2 * max(0, step - 1))
        out = {k: u if k == "log_std" else u * m2 for k, u in updates.items()}
        if step >= 1:
            out["log_std"] = updates["log_std"] + math.log(factor)
        return out, step + 1

    return UpdateRule(lambda params: 0, update)


class AdaptedPolicy:
    """phi for one task: the adapted Gaussian policy, and what adapting it saw.

    ``phi(observations [Q, obs]) -> [Q, act]`` mean actions. ``rollouts[s]`` are the
    trajectories after ``s`` steps (``[1, K, H, ...]``) and ``returns[s]`` their mean return.
    """

    def __init__(self, policy: GaussianMLP, params: Params, rollouts: list[Rollouts], action_scale: float = 1.0
                 ) -> None:
        self.policy, self.params, self.rollouts, self.action_scale = policy, params, rollouts, action_scale
        self.returns = torch.stack([r.returns()[0] for r in rollouts])

    def __call__(self, observations: torch.Tensor) -> torch.Tensor:
        return self.policy.mean(self.params, observations) * self.action_scale


class MAMLRL(MAML):
    """MAML with policy-gradient inner steps and a TRPO outer step, for RL task families."""

    name = "maml-rl"
    Config = MAMLRLConfig
    task_kinds = frozenset({"rl"})

    def __init__(self, config: MAMLRLConfig | None = None) -> None:
        MetaLearner.__init__(self, config)
        c = self.config
        self.env = SIMULATORS[c.env]
        self.policy = GaussianMLP(self.env.observations, self.env.actions, c.hidden, c.layers, c.init_std)

    # Pieces ----------------------------------------------------------------------------------
    def inner_rule(self, outer: bool) -> UpdateRule:
        """Vanilla policy gradient with one fixed step size (Finn et al. 2017, Sec. 5.3), or with
        ``log_std_lr`` another fixed size for the log-std; steps after the first scaled by
        ``later_lr_factor``, and with ``later_std_factor`` narrowing the std."""
        c = self.config
        rule = self._policy_gradient_rule()
        return rule if c.later_std_factor == 1 else chain(rule, _narrowing_std(c.later_std_factor))

    def _policy_gradient_rule(self) -> UpdateRule:
        c = self.config
        if c.log_std_lr is None and c.later_lr_factor == 1:
            return sgd(c.inner_lr)
        rates = {k: c.inner_lr if c.log_std_lr is None or k != "log_std" else c.log_std_lr
                 for k, _ in self.policy.named_parameters()}
        if c.later_lr_factor == 1:
            return scale_by({k: torch.tensor(-rate) for k, rate in rates.items()})
        return per_step_sgd({k: torch.tensor([rate, rate * c.later_lr_factor]) for k, rate in rates.items()})

    def log_prob(self, params: Params, rollouts: Rollouts) -> torch.Tensor:
        """``log pi(a|s)`` of every step ``[T, K, H]`` under per-task parameters ``[T, ...]`` (of
        the policy's actions ``a``, the simulator's divided by ``action_scale``)."""
        t, k, h, _ = rollouts.observations.shape
        actions = rollouts.actions.flatten(1, 2) / self.config.action_scale
        return self.policy.log_prob(params, rollouts.observations.flatten(1, 2), actions).view(t, k, h)

    def theta(self, tasks: int, outer: bool) -> Params:
        """The meta-parameters with a task dimension (views: gradients flow back to theta)."""
        params = dict(self.policy.named_parameters())
        if not outer:
            params = {k: v.detach().requires_grad_() for k, v in params.items()}
        return {k: v.expand(tasks, *v.shape) for k, v in params.items()}

    def adapted(self, sampler: _Sampler, trajectories: int, *, steps: int, outer: bool) -> Params:
        """theta' of every task after ``steps`` policy-gradient steps (collected or replayed)."""
        with torch.enable_grad():
            theta = self.theta(len(sampler.seeds), outer)
            if steps == 0:  # the pretrained baseline in training: theta' = theta
                return theta if outer else {k: v.detach() for k, v in theta.items()}
            fast = inner_loop(sampler.closure(trajectories), theta, steps=steps, rule=self.inner_rule(outer),
                              adapted=self.is_adapted, first_order=self.config.first_order or not outer)
        return fast if outer else {k: v.detach() for k, v in fast.items()}

    def sampler(self, batch: Episode) -> _Sampler:
        """The trajectories of a batched episode's tasks: goals ``support_x[:, 0]``, seeds ``support_y[:, 0]``."""
        return _Sampler(self, batch.support_x[:, 0], [int(s) for s in batch.support_y[:, 0]])

    # The learner contract ---------------------------------------------------------------------
    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> AdaptedPolicy:
        """Adapt to one task (goal ``support_x[0]``, rollout seed ``support_y[0]``, ``K`` =
        ``len(support_x)`` trajectories per step); ``eval_inner_steps`` steps under no_grad."""
        outer = torch.is_grad_enabled()
        steps = self.config.inner_steps if outer else self._eval_steps
        sampler = _Sampler(self, support_x[:1], [int(support_y[0])])
        fast = self.adapted(sampler, len(support_x), steps=steps, outer=outer)
        sampler.collect(fast, steps, len(support_x))
        return AdaptedPolicy(self.policy, {k: v[0] for k, v in fast.items()}, [r for r, _ in sampler.batches],
                             self.config.action_scale)

    @property
    def _eval_steps(self) -> int:
        c = self.config
        return c.inner_steps if c.eval_inner_steps is None else c.eval_inner_steps

    def prior(self) -> AdaptedPolicy | None:
        return None

    @torch.no_grad()
    def predict(self, episode: Episode) -> torch.Tensor:
        """Each task's mean return after ``0..eval_inner_steps`` steps: ``[T, S+1]``."""
        sampler = self.sampler(episode)
        k, steps = episode.support_x.shape[1], self._eval_steps
        fast = self.adapted(sampler, k, steps=steps, outer=False)
        sampler.collect(fast, steps, k)
        return torch.stack([r.returns() for r, _ in sampler.batches], -1)

    def query_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("maml-rl has no supervised query loss; its meta-loss is a policy objective")

    def _query(self, batch: Episode) -> tuple[_Sampler, Params, Rollouts, torch.Tensor, torch.Tensor]:
        """Adapt every task, then collect ``Q`` query trajectories with the adapted policies:
        the sampler, theta' (in the graph), the query rollouts, advantages and old log-probs."""
        sampler = self.sampler(batch)
        steps = self.config.inner_steps
        fast = self.adapted(sampler, batch.support_x.shape[1], steps=steps, outer=True)
        rollouts, adv = sampler.collect(fast, steps, batch.query_x.shape[1])
        old = self.log_prob({k: v.detach() for k, v in fast.items()}, rollouts)
        return sampler, fast, rollouts, adv, old

    def _outputs(self, sampler: _Sampler) -> torch.Tensor:
        return torch.stack([r.returns() for r, _ in sampler.batches], -1)

    def meta_loss(self, batch: Episode) -> MetaLoss:
        """The adapted policies' surrogate, ``-mean_i mean_t pi_theta'_i / pi_old A_t`` (its
        gradient is the meta policy gradient); outputs: returns before and after adaptation."""
        sampler, fast, rollouts, adv, old = self._query(batch)
        loss = ratio_surrogate(self.log_prob(fast, rollouts), old, adv, rollouts.mask).mean()
        return MetaLoss(loss=loss, outputs=self._outputs(sampler))

    def meta_losses(self, batch: Episode) -> Iterator[MetaLoss]:
        """With ``outer="trpo"``: take a TRPO step on the meta-objective (the surrogate of
        :meth:`meta_loss` within a KL trust region on the adapted policies) and yield its
        result: its loss is minus the adapted policies' mean return on the query trajectories
        (what the training log plots) and carries no gradient (the step is taken)."""
        if self.config.outer != "trpo":
            yield self.meta_loss(batch)
            return
        c = self.config
        sampler, fast, rollouts, adv, old_log_prob = self._query(batch)
        old = {k: v.detach() for k, v in fast.items()}
        k_support = batch.support_x.shape[1]
        obs = rollouts.observations.flatten(1, 2)

        def loss() -> torch.Tensor:
            params = self.adapted(sampler, k_support, steps=c.inner_steps, outer=True)
            return ratio_surrogate(self.log_prob(params, rollouts), old_log_prob, adv, rollouts.mask).mean()

        def kl() -> torch.Tensor:
            params = self.adapted(sampler, k_support, steps=c.inner_steps, outer=True)
            divergence = self.policy.kl(old, params, obs).view_as(rollouts.mask)
            return masked_task_mean(divergence, rollouts.mask).mean()

        def shifted_kl() -> torch.Tensor:  # theta' ~ theta + (theta'_old - theta_old)
            shift = self.theta(len(sampler.seeds), outer=True)
            params = {k: v + (old[k] - shift[k].detach()) for k, v in shift.items()}
            mask = rollouts.mask[:, :, ::c.fisher_stride]
            divergence = self.policy.kl(old, params, rollouts.observations[:, :, ::c.fisher_stride].flatten(1, 2))
            return masked_task_mean(divergence.view_as(mask), mask).mean()

        step = trpo_step(list(self.policy.parameters()), loss, kl, max_kl=c.max_kl, cg_iters=c.cg_iters,
                         damping=c.cg_damping, backtracks=c.backtracks,
                         curvature=shifted_kl if c.curvature == "adapted" else None)
        outputs = self._outputs(sampler)
        yield MetaLoss(loss=(-outputs[:, -1].mean()).requires_grad_(), outputs=outputs,
                       metrics={"kl": step.kl, "step_fraction": step.fraction, "surrogate_before": step.loss_before,
                                "surrogate_after": step.loss_after})
