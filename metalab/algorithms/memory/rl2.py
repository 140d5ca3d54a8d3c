"""RL^2: a recurrent policy trained across tasks is itself the fast learner (Duan et al. 2016).

"Fast" reinforcement learning happens in the activations of a GRU policy
(:class:`metalab.models.recurrent_policy.GRUPolicy`) whose hidden state persists across the
pulls of a trial on one task; the "slow" learner is an ordinary policy-gradient method over
many tasks, maximising each trial's total reward. ``adapt`` is playing the task: it runs the
policy through a trial and returns the policy with its final memory. The slow learner here is
PPO (Schulman et al. 2017, Eq. 7; the paper uses TRPO): each meta-batch's trials are played
once, then :meth:`RL2.meta_losses` yields ``epochs`` clipped-surrogate losses, one per update
of the shared loop's optimizer, with GAE advantages (Schulman et al. 2016; ``discount``,
``gae_lambda``) and a value head trained alongside.

Tasks (Bernoulli bandits, :mod:`metalab.tasks.bandit`) reach the policy as ``[previous arm
one-hot, reward, done = 1]`` per pull: each pull is a one-step episode of the trial, as in the
paper's bandit experiments. On the point robot (``env``, :mod:`metalab.algorithms.memory.rl2_navigation`)
the policy is a Gaussian GRU policy and a trial is ``episodes`` episodes of one goal, the
hidden state kept across them; the score is each episode's return. All randomness, the payouts and the uniforms the policy samples
its arms with, comes from the trials' seeds in the episode, so a resumed run replays the same
trials. The loss of a meta-batch is the mean of its tasks' losses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from metalab.algorithms.base import MetaLearner, MetaLoss
from metalab.checks import option, validate
from metalab.errors import ConfigError
from metalab.models.recurrent_policy import GRUPolicy
from metalab.algorithms.memory.rl2_navigation import (NavigationTrials, PlayedNavigation, gaussian_entropy,
                                                     gaussian_log_prob, play)
from metalab.tasks.bandit import BanditTrials
from metalab.tasks.episode import Episode
from metalab.tasks.navigation import ENVIRONMENTS


@dataclasses.dataclass(frozen=True)
class RL2Config:
    """Hyperparameters of :class:`RL2`.

    Attributes:
        arms: actions of the policy (the bandit family sets it to the tasks' arms).
        hidden: GRU units (the paper: 256).
        discount, gae_lambda: of the advantages (0.99, 0.95); the reported score is undiscounted.
        epochs: PPO updates per meta-batch of played trials, each one step of the loop's optimizer.
        clip: PPO's ratio clip epsilon.
        value_coef, entropy_coef: weights of the value loss and the entropy bonus.
        standardize: standardise the advantages over each task's steps (off: the 0/1 rewards
            keep raw advantages at a usable scale, and standardising within a task amplifies
            the noise of tasks whose arms are alike).
        env: a point-robot simulator (a key of :data:`metalab.tasks.navigation.ENVIRONMENTS`; the
            navigation family sets it), or None for bandits.
        episodes, init_std: on the point robot, episodes per trial and the initial action std.
    """

    arms: int = option(5, minimum=2)
    hidden: int = option(128, minimum=1)
    discount: float = option(0.99, above=0, maximum=1)
    gae_lambda: float = option(0.95, minimum=0, maximum=1)
    epochs: int = option(8, minimum=1)
    clip: float = option(0.2, above=0)
    value_coef: float = option(0.5, minimum=0)
    entropy_coef: float = option(0.01, minimum=0)
    standardize: bool = False
    env: str | None = None
    episodes: int = option(2, minimum=1)
    init_std: float = option(1.0, above=0)

    def __post_init__(self) -> None:
        validate(self)
        if self.env is not None and self.env not in ENVIRONMENTS:
            raise ConfigError(f"rl2 env must be one of {sorted(ENVIRONMENTS)} or None (bandits), got {self.env!r}",
                              fields=("env",))


@dataclasses.dataclass(frozen=True)
class _Played:
    """A meta-batch's played trials: ``B = T * Q`` sequences of ``n`` pulls."""

    tasks: int
    inputs: torch.Tensor  # [B, n, in] what the GRU read before each pull
    actions: torch.Tensor  # [B, n]
    log_prob: torch.Tensor  # [B, n] under the policy that played
    advantages: torch.Tensor  # [B, n] standardised per task
    returns: torch.Tensor  # [B, n] value targets, in value-head units
    outputs: torch.Tensor  # [T, Q, 2] total reward and pseudo-regret per trial ([T, E] returns: navigation)
    mask: torch.Tensor | None = None  # [B, n] steps that happened (navigation)


class PlayedTrial:
    """phi for one task: the policy after a trial, holding its memory of the task.

    ``phi(query_x [Q, k]) -> [Q, k]``: the probabilities of the next pull. ``actions``,
    ``rewards`` ``[n]`` and ``outcome`` ``[2]`` (total reward, pseudo-regret) are the trial's.
    """

    def __init__(self, probabilities: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
                 outcome: torch.Tensor) -> None:
        self.probabilities, self.actions, self.rewards, self.outcome = probabilities, actions, rewards, outcome

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return self.probabilities.expand(len(query_x), -1)


class NavigationTrial:
    """phi for one navigation task: the trial played (``played.returns[0]``: each episode's return,
    ``played.paths``: the robot's paths); ``returns`` ``[E]``. ``phi(query_x [Q, ...]) -> [Q, act]``:
    the mean action of the trial's last step (the policy's memory of the task)."""

    def __init__(self, played: PlayedNavigation) -> None:
        self.played, self.returns = played, played.returns[0]

    def __call__(self, query_x: torch.Tensor) -> torch.Tensor:
        return self.played.last_mean[0].expand(len(query_x), -1)


class RL2(MetaLearner):
    """A GRU policy meta-trained with PPO across bandit tasks; adapting is playing."""

    name = "rl2"
    Config = RL2Config
    task_kinds = frozenset({"bandit", "rl"})

    def __init__(self, config: RL2Config | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.env = None if c.env is None else ENVIRONMENTS[c.env]
        if self.env is None:
            self.policy = GRUPolicy(c.arms, 0, c.hidden)
        else:
            self.policy = GRUPolicy(self.env.actions, self.env.observations, c.hidden, continuous=True,
                                    init_std=c.init_std)

    def _value_scale(self, pulls: int) -> float:
        """Values are predicted in units of the largest discounted return, so the head stays O(1)."""
        c = self.config
        return float(pulls) if c.discount >= 1 else min(float(pulls), 1 / (1 - c.discount))

    def _play(self, trials: BanditTrials) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Play every trial with the current policy (no gradient): ``[B, n]`` actions and
        rewards, the ``[B, n, in]`` inputs, and ``[B, k]`` probabilities of the next pull."""
        tasks, count, pulls, arms = trials.shape
        if arms != self.config.arms:
            raise ConfigError(f"this rl2 policy plays {self.config.arms} arms, the tasks have {arms}; evaluate on "
                              f"{self.config.arms}-armed tasks (ways {self.config.arms}) or train a policy for "
                              f"{arms} arms", fields=("ways",))
        policy, device = self.policy, self.policy.logits.weight.device
        payouts = torch.from_numpy(trials.payouts.reshape(-1, pulls, arms)).to(device)
        choices = torch.from_numpy(trials.choices.reshape(-1, pulls)).to(device)
        rows = torch.arange(len(payouts), device=device)
        x, h = policy.first_input(len(payouts)), None
        inputs, actions, rewards = [x], [], []
        with torch.no_grad():
            for t in range(pulls + 1):
                logits, _, h = policy(x, h)
                probabilities = logits[:, 0].softmax(-1)
                if t == pulls:
                    break
                cumulative = probabilities.double().cumsum(-1)
                arm = (cumulative < choices[:, t:t + 1]).sum(-1).clamp(max=arms - 1)
                reward = payouts[rows, t, arm].float()
                x = policy.inputs(arm[:, None], reward[:, None], torch.ones_like(reward)[:, None])
                inputs.append(x)
                actions.append(arm)
                rewards.append(reward)
        return torch.stack(actions, 1), torch.stack(rewards, 1), torch.cat(inputs[:-1], 1), probabilities

    def _collect(self, batch: Episode) -> _Played:
        """Play a batched episode's query trials and compute what the PPO losses need."""
        c = self.config
        trials = BanditTrials(batch)
        tasks, count, pulls, _ = trials.shape
        actions, rewards, inputs, _ = self._play(trials)
        outputs = torch.from_numpy(trials.outcomes(actions.cpu().numpy().reshape(tasks, count, pulls))[1]).float()
        with torch.no_grad():
            logits, values, _ = self.policy(inputs)
            log_prob = logits.log_softmax(-1).gather(-1, actions[..., None])[..., 0]
            advantages, returns = self._gae(tasks, rewards, values, c.standardize)
        return _Played(tasks, inputs, actions, log_prob, advantages, returns, outputs)

    def _gae(self, tasks: int, rewards: torch.Tensor, values: torch.Tensor, standardize: bool
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """GAE advantages over whole trials (Schulman et al. 2016, Eq. 16; the trial ends after
        its last step) and the value targets in value-head units, from ``[B, n]`` rewards and values."""
        c, steps = self.config, rewards.shape[1]
        scale = self._value_scale(steps)
        values = values * scale
        advantages = torch.zeros_like(rewards)
        running = torch.zeros_like(rewards[:, 0])
        for t in range(steps - 1, -1, -1):
            following = values[:, t + 1] if t + 1 < steps else torch.zeros_like(running)
            delta = rewards[:, t] + c.discount * following - values[:, t]
            running = delta + c.discount * c.gae_lambda * running
            advantages[:, t] = running
        returns = (advantages + values) / scale
        if standardize:
            per_task = advantages.view(tasks, -1)
            advantages = ((per_task - per_task.mean(-1, keepdim=True)) / (per_task.std(-1, keepdim=True) + 1e-8)
                          ).view_as(advantages)
        return advantages, returns

    def _collect_navigation(self, batch: Episode) -> _Played:
        """Play a batched episode's query trials on the point robot (advantages standardised per task)."""
        trials = NavigationTrials.of(batch, self.env, self.config.episodes)
        played = play(self.policy, self.env, trials)
        with torch.no_grad():
            means, values, _ = self.policy(played.inputs)
            log_prob = gaussian_log_prob(self.policy, means, played.actions)
            advantages, returns = self._gae(trials.tasks, played.rewards, values, True)
        outputs = played.returns.view(trials.tasks, trials.count, -1).mean(1)
        return _Played(trials.tasks, played.inputs, played.actions, log_prob, advantages, returns, outputs, played.mask)

    def _loss(self, played: _Played) -> tuple[torch.Tensor, dict[str, float]]:
        """PPO's clipped surrogate, value and entropy terms, averaged per task then over tasks."""
        c = self.config
        logits, values, _ = self.policy(played.inputs)
        if self.env is None:
            log_probs = logits.log_softmax(-1)
            log_prob = log_probs.gather(-1, played.actions[..., None])[..., 0]
            entropy = -(log_probs.exp() * log_probs).sum(-1)
        else:
            log_prob = gaussian_log_prob(self.policy, logits, played.actions)
            entropy = gaussian_entropy(self.policy).expand_as(log_prob)
        ratio = torch.exp(log_prob - played.log_prob)
        adv = played.advantages
        surrogate = torch.min(ratio * adv, ratio.clamp(1 - c.clip, 1 + c.clip) * adv)
        value_error = (values - played.returns).pow(2)

        def per_task(values: torch.Tensor) -> torch.Tensor:
            return values.reshape(played.tasks, -1).mean(-1)

        if played.mask is None:
            policy_term = per_task(surrogate)
        else:  # steps after an episode ended carry no policy loss: a mean over each task's steps that happened
            mask = played.mask.reshape(played.tasks, -1)
            policy_term = (surrogate.reshape(played.tasks, -1) * mask).sum(-1) / mask.sum(-1).clamp(min=1)
        loss = (-policy_term + c.value_coef * per_task(value_error) - c.entropy_coef * per_task(entropy)).mean()
        with torch.no_grad():
            metrics = {"entropy": float(entropy.mean()), "value_loss": float(value_error.mean()),
                       "clipped": float(((ratio - 1).abs() > c.clip).float().mean())}
        return loss, metrics

    # The learner contract ---------------------------------------------------------------------
    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> PlayedTrial:
        """Play one trial of ``len(support_x)`` pulls on the task (arm probabilities
        ``support_x[0]``, trial seed ``support_y[0]``); the task model is the policy's memory after it."""
        episode = Episode(support_x, support_y, support_x[:1], support_y[:1], torch.zeros(0, dtype=torch.long))
        if self.env is not None:
            trials = NavigationTrials.of(episode, self.env, self.config.episodes, support=True)
            return NavigationTrial(play(self.policy, self.env, trials))
        trials = BanditTrials(episode, support=True)
        actions, rewards, _, probabilities = self._play(trials)
        outcome = trials.outcomes(actions.cpu().numpy().reshape(1, 1, -1))[1][0, 0]
        return PlayedTrial(probabilities[0], actions[0], rewards[0], torch.from_numpy(outcome).float())

    def meta_loss(self, batch: Episode) -> MetaLoss:
        """The PPO loss of freshly played trials at the policy that played them (ratio 1);
        outputs: ``[T, Q, 2]`` total reward and pseudo-regret of each trial."""
        played = self._collect_navigation(batch) if self.env is not None else self._collect(batch)
        loss, metrics = self._loss(played)
        return MetaLoss(loss=loss, outputs=played.outputs, metrics=metrics)

    def meta_losses(self, batch: Episode) -> Iterator[MetaLoss]:
        """Play the meta-batch's trials once, then yield ``epochs`` PPO losses on them (the
        loop takes an optimizer step after each, so the ratio moves away from 1)."""
        played = self._collect_navigation(batch) if self.env is not None else self._collect(batch)
        for _ in range(self.config.epochs):
            loss, metrics = self._loss(played)
            yield MetaLoss(loss=loss, outputs=played.outputs, metrics=metrics)

    def query_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("rl2 has no supervised query loss; its meta-loss is a policy objective")

    @torch.no_grad()
    def predict(self, episode: Episode) -> torch.Tensor:
        """Each task's query trials played: ``[T, Q, 2]`` total reward and pseudo-regret (on the
        point robot: ``[T, E]``, the mean return of each episode of a trial)."""
        if self.env is not None:
            trials = NavigationTrials.of(episode, self.env, self.config.episodes)
            return play(self.policy, self.env, trials).returns.view(trials.tasks, trials.count, -1).mean(1)
        trials = BanditTrials(episode)
        tasks, count, pulls, _ = trials.shape
        actions = self._play(trials)[0]
        return torch.from_numpy(trials.outcomes(actions.cpu().numpy().reshape(tasks, count, pulls))[1]).float()
