"""Within-alphabet one-shot episodes and training augmentation for image tasks.

Lake, Salakhutdinov & Tenenbaum (2015, Science) measured one-shot classification *within an
alphabet*: a 20-way task whose characters all come from one alphabet, one image of each
character drawn by one person, and a test image of each drawn by another (humans: 4.5%
error). That is harder than mixed-alphabet episodes: the negatives share the alphabet's
strokes. :class:`WithinAlphabet` draws such episodes: one alphabet, then ``ways`` of its
characters, then distinct drawers for the support (the first ``shots``) and the queries
(the next ``queries``), the same drawers for every class of the episode.

Augmentation for training (Lake et al. 2015 and Koch et al. 2015 used affine distortions;
Santoro et al. 2016 and Vinyals et al. 2016 made quarter turns new classes):

- ``quarter_turns``: every character at 90, 180 and 270 degrees is a class of its own (a
  turned alphabet is an alphabet of its own for within-alphabet episodes);
- ``affine``: each training image gets a small random affine map (rotation, shear, scale,
  translation; Koch et al. 2015, Sec. 4.2).

Both apply to the training part only: validation and test tasks are never augmented.
:class:`ImageTaskOptions` is the ``task:`` training option that selects them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
import torch.nn.functional as F

from metalab.checks import from_mapping, option, validate
from metalab.data.dataset import FewShotDataset
from metalab.data.splits import TRAIN_PARTS
from metalab.errors import ConfigError, DataError
from metalab.tasks.episode import Episode
from metalab.tasks.family import TaskShape, check_counts
from metalab.tasks.image import ImageClassification, check_task, episode_of


@dataclasses.dataclass(frozen=True)
class ImageTaskOptions:
    """How an image family draws tasks (the ``task:`` training option).

    Attributes:
        within_alphabet: every episode's classes from one Omniglot alphabet, support and
            query images by different drawers (Lake et al. 2015).
        quarter_turns: training only: each character at 90, 180, 270 degrees is a new class.
        affine: training only: a random small affine map per image, at most ``affine`` times
            the ranges of Koch et al. (2015): rotation +-10 degrees, shear +-0.3, scale
            0.8-1.2, translation +-2 pixels of 105 (0: none).
    """

    within_alphabet: bool = option(False)
    quarter_turns: bool = option(False)
    affine: float = option(0.0, minimum=0, maximum=2, meaning=" (0: none; 1: Koch et al.'s ranges)")

    def __post_init__(self) -> None:
        validate(self, "task.")


def task_options(values: Any) -> ImageTaskOptions:
    """An :class:`ImageTaskOptions` from a mapping (the ``task:`` option), naming unknown keys."""
    return from_mapping(ImageTaskOptions, values, "task")


def with_quarter_turns(dataset: FewShotDataset) -> FewShotDataset:
    """``dataset`` with each class also at 90, 180 and 270 degrees, as three new classes."""
    if bool(dataset.rotations.any()):
        raise ConfigError(f"{dataset.name} already has turned classes (the vinyals split turns every "
                          "character); leave out quarter_turns, or use the lake split", fields=("task",))
    turns = torch.arange(4).repeat_interleave(dataset.num_classes)
    names = tuple(name + (f"@{90 * k}" if k else "") for k in range(4) for name in dataset.class_names)
    return FewShotDataset(dataset.images, dataset.offsets.repeat(4), dataset.sizes.repeat(4), turns, names,
                          dataset.name + "+turns")


def random_affine(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Each image of ``x`` ``[..., C, H, W]`` under its own random affine map (bilinear, zero fill).

    Ranges (times ``strength``) are Koch et al.'s (2015, Sec. 4.2) for 105-pixel images:
    rotation +-10 degrees, shear +-0.3, scale 0.8-1.2 per axis, translation +-2 pixels.
    """
    if strength == 0:
        return x
    flat = x.reshape(-1, *x.shape[-3:])
    n = len(flat)
    u = torch.rand(n, 7, generator=generator, device=x.device) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(10) * strength
    shear_x, shear_y = u[:, 1] * 0.3 * strength, u[:, 2] * 0.3 * strength
    scale_x, scale_y = 1 + u[:, 3] * 0.2 * strength, 1 + u[:, 4] * 0.2 * strength
    shift = u[:, 5:7] * (2 * 2 / 105) * strength  # 2 pixels of 105, in [-1, 1] coordinates
    cos, sin = angle.cos(), angle.sin()
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    shear = torch.stack([torch.stack([torch.ones_like(shear_x), shear_x], -1),
                         torch.stack([shear_y, torch.ones_like(shear_y)], -1)], -2)
    scale = torch.diag_embed(torch.stack([scale_x, scale_y], -1))
    # affine_grid maps output coordinates to input ones: the inverse of the drawn map
    forward = rotation @ shear @ scale
    inverse = torch.linalg.inv(forward)
    theta = torch.cat([inverse, -(inverse @ shift.unsqueeze(-1))], -1)
    grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
    return F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False).reshape(x.shape)


def alphabet_groups(dataset: FewShotDataset) -> list[torch.Tensor]:
    """The class ids of each alphabet (and turn) of an Omniglot part, from the class names
    ``alphabet/characterNN[@turn]``; a turned alphabet is a group of its own."""
    groups: dict[tuple[str, int], list[int]] = {}
    for c, name in enumerate(dataset.class_names):
        alphabet, sep, _ = name.partition("/")
        if not sep:
            raise DataError(f"{dataset.name}: class {name!r} names no alphabet (alphabet/character); "
                            "within-alphabet tasks need Omniglot", fields=("task",))
        groups.setdefault((alphabet, int(dataset.rotations[c])), []).append(c)
    return [torch.tensor(ids) for _, ids in sorted(groups.items())]


def sample_within_alphabet(
    dataset: FewShotDataset, groups: list[torch.Tensor], ways: int, shots: int, queries: int,
    generator: torch.Generator,
) -> Episode:
    """One alphabet among ``groups`` with at least ``ways`` characters (uniformly), ``ways`` of
    its characters, and ``shots + queries`` distinct drawers shared by all classes: the first
    ``shots`` draw the support, the others the queries."""
    eligible = [g for g in groups if len(g) >= ways]
    group = eligible[int(torch.randint(len(eligible), (1,), generator=generator))]
    classes = group[torch.randperm(len(group), generator=generator)[:ways]]
    drawers = torch.randperm(int(dataset.sizes[classes].min()), generator=generator)[: shots + queries]
    images = dataset.gather(classes, drawers.expand(ways, -1))  # [N, K+Q, C, H, W]
    return episode_of(images, classes, shots)


class AugmentedImages(ImageClassification):
    """:class:`ImageClassification` whose sampled images get :func:`random_affine` (training)."""

    def __init__(self, dataset: FewShotDataset, *, affine: float, source: str = "",
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(dataset, source=source, details=details)
        self.affine = affine

    def augment(self, episode: Episode, generator: torch.Generator) -> Episode:
        return dataclasses.replace(episode, support_x=random_affine(episode.support_x, generator, self.affine),
                                   query_x=random_affine(episode.query_x, generator, self.affine))

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        return self.augment(super().sample(shape, generator), generator)


class WithinAlphabet(AugmentedImages):
    """Within-alphabet N-way K-shot tasks of Omniglot (Lake et al. 2015), support and query
    images by different drawers; ``affine`` > 0 augments them (training only)."""

    def __init__(self, dataset: FewShotDataset, *, affine: float = 0.0, source: str = "",
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(dataset, affine=affine, source=source, details={**(details or {}), "within_alphabet": True})
        self.groups = alphabet_groups(dataset)

    def check(self, shape: TaskShape) -> None:
        check_task(self.dataset, shape.ways, shape.shots, shape.queries)
        check_counts(shape)
        largest = max(len(g) for g in self.groups)
        if shape.ways > largest:
            raise DataError(f"{shape.ways}-way within-alphabet tasks need an alphabet of {shape.ways} characters; "
                            f"the largest of {self.dataset.name} has {largest}. Lower ways, or leave out "
                            "within_alphabet", fields=("ways",))

    def sample(self, shape: TaskShape, generator: torch.Generator) -> Episode:
        episode = sample_within_alphabet(self.dataset, self.groups, shape.ways, shape.shots, shape.queries, generator)
        return self.augment(episode, generator)

    def summary(self, shape: TaskShape) -> str:
        return f"{shape.ways}-way {shape.shots}-shot within-alphabet"


def image_family(dataset: FewShotDataset, part: str, options: ImageTaskOptions, *, source: str,
                 details: dict[str, Any]) -> ImageClassification:
    """The image task family ``options`` ask for; augmentation only for a part trained on
    (``train``, ``train+val``)."""
    training = part in TRAIN_PARTS
    if options.quarter_turns and training:
        dataset = with_quarter_turns(dataset)
    affine = options.affine if training else 0.0
    if options.within_alphabet:
        return WithinAlphabet(dataset, affine=affine, source=source, details=details)
    if affine:
        return AugmentedImages(dataset, affine=affine, source=source, details=details)
    return ImageClassification(dataset, source=source, details=details)
