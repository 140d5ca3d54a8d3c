"""What a trained learner may do with a test task beyond its own ``adapt``: test-time
augmentation and fine-tuning its embedding on the support set.

Both wrap a learner and are learners themselves (``adapt(support) -> task model``), so the
evaluator runs them unchanged:

- :class:`TestTimeAugmented` averages the log-probabilities of ``copies`` task models, each
  adapted to a randomly distorted copy of the support and applied to a distorted copy of the
  queries (copy 0 undistorted); the distortions are :func:`~metalab.tasks.alphabets.random_affine`'s.
- :class:`SupportFineTuned` fine-tunes a copy of a Prototypical Network's encoder on each
  task's support set before classifying: a few Adam steps on the prototype loss (Snell et al.
  2017, Eq. 2) with the support images as prototypes and distorted copies of them as
  pseudo-queries (the support's own labels). Batch norm keeps the trained running statistics.

Their randomness comes from one generator seeded when the wrapper is made, so an evaluation
over the same fixed tasks in the same order is repeatable.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F

from metalab.algorithms.base import MetaLearner, TaskModel
from metalab.algorithms.metric.protonet import PrototypeClassifier, class_means, squared_distances
from metalab.checks import SEED_MAX, option, validate
from metalab.errors import ConfigError
from metalab.tasks.alphabets import random_affine


@dataclasses.dataclass(frozen=True)
class TestTimeOptions:
    """``metalab eval``'s test-time options.

    Attributes:
        tta: augmented copies averaged by :class:`TestTimeAugmented` (0: none).
        finetune_steps: Adam steps of :class:`SupportFineTuned` per task (0: none).
        finetune_lr: their learning rate.
        finetune_copies: distorted pseudo-queries per support image in each step.
        affine: strength of the distortions (1: Koch et al.'s ranges).
        seed: seeds the distortions.
    """

    tta: int = option(0, minimum=0, meaning=" (0: none)")
    finetune_steps: int = option(0, minimum=0, meaning=" (0: none)")
    finetune_lr: float = option(1e-3, above=0)
    finetune_copies: int = option(4, minimum=1)
    affine: float = option(1.0, above=0, maximum=2)
    seed: int = option(0, minimum=0, maximum=SEED_MAX)

    def __post_init__(self) -> None:
        validate(self)


class _Wrapper(MetaLearner):
    """A learner around ``inner``: its name and config, and the inner learner's mode."""

    def __init__(self, inner: MetaLearner, seed: int) -> None:
        super().__init__(inner.config)
        self.inner, self.name = inner, inner.name
        self.generator = torch.Generator(device=next(inner.parameters()).device).manual_seed(seed)


class TestTimeAugmented(_Wrapper):
    """Average of ``copies`` task models over distorted supports and queries (copy 0: the original)."""

    def __init__(self, inner: MetaLearner, copies: int, affine: float = 1.0, seed: int = 0) -> None:
        super().__init__(inner, seed)
        self.copies, self.affine = copies, affine

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> TaskModel:
        models = [self.inner.adapt(support_x if c == 0 else random_affine(support_x, self.generator, self.affine),
                                   support_y, ways) for c in range(self.copies + 1)]

        def task_model(query_x: torch.Tensor) -> torch.Tensor:
            views = [query_x] + [random_affine(query_x, self.generator, self.affine) for _ in models[1:]]
            return torch.stack([F.log_softmax(m(v), -1) for m, v in zip(models, views)]).mean(0)

        return task_model


class SupportFineTuned(_Wrapper):
    """A Prototypical Network whose encoder is fine-tuned on each task's support set.

    Args:
        inner: a trained ``protonet``.
        steps, lr: Adam steps on the prototype loss, and their learning rate.
        copies: distorted pseudo-queries per support image in each step.
        affine: their distortion strength.
    """

    def __init__(self, inner: MetaLearner, steps: int, lr: float = 1e-3, copies: int = 4, affine: float = 1.0,
                 seed: int = 0) -> None:
        if inner.name != "protonet":
            raise ConfigError(f"fine-tuning on the support set takes a protonet run (it fine-tunes the embedding "
                              f"with the prototype loss), got {inner.name}; leave out --finetune",
                              fields=("finetune_steps",))
        super().__init__(inner, seed)
        self.steps, self.lr, self.copies, self.affine = steps, lr, copies, affine

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> PrototypeClassifier:
        encoder = copy.deepcopy(self.inner.encoder).eval()
        optimizer = torch.optim.Adam(encoder.parameters(), lr=self.lr)
        targets = support_y.repeat(self.copies)
        with torch.enable_grad():
            for _ in range(self.steps):
                pseudo = random_affine(support_x.repeat(self.copies, 1, 1, 1), self.generator, self.affine)
                embedded = encoder(torch.cat([support_x, pseudo]))
                prototypes = class_means(embedded[: len(support_x)], support_y, ways)
                loss = F.cross_entropy(-squared_distances(embedded[len(support_x):], prototypes), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        encoder.requires_grad_(False)
        with torch.no_grad():
            return PrototypeClassifier(encoder, class_means(encoder(support_x), support_y, ways))


def at_test_time(learner: MetaLearner, options: TestTimeOptions) -> MetaLearner:
    """``learner`` fine-tuned on each support set and/or averaged over augmented copies, as
    ``options`` ask (fine-tuning inside the augmentation); ``learner`` itself if neither."""
    if options.finetune_steps:
        learner = SupportFineTuned(learner, options.finetune_steps, options.finetune_lr, options.finetune_copies,
                                   options.affine, options.seed)
    if options.tta:
        learner = TestTimeAugmented(learner, options.tta, options.affine, options.seed)
    return learner
