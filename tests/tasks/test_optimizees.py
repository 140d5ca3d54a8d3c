"""Optimizee families: problems for learned optimizers, drawn and scored like any task family."""

import torch

from metalab.algorithms import build_learner
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.family import TaskShape
from metalab.tasks.optimizees import DigitsMLP, OmniglotMLP, Quadratics
from metalab.tasks.stream import TaskStream

SHAPE = TaskShape(None, 1, 1)


def test_quadratics_are_gaussian_10x10_problems_scored_by_their_objective():
    episode = next(TaskStream(Quadratics(), SHAPE, meta_batch=3, seed=0))
    assert episode.support_x.shape == (3, 10, 10) and episode.support_y.shape == (3, 10, 1)
    assert torch.equal(episode.support_x, episode.query_x)
    w, y = episode.support_x[0], episode.support_y[0]
    theta = torch.linalg.solve(w, y)  # the minimum: objective 0
    outputs = torch.stack([w @ theta, torch.zeros(10, 1)])[:, None].squeeze(1)
    scores = Quadratics().task_scores(outputs, torch.stack([y, y]))
    assert scores[0] < 1e-8 and torch.isclose(scores[1], y.pow(2).sum().double())
    assert not torch.equal(Quadratics("test").fixed(SHAPE, 0, 0).support_x, Quadratics("val").fixed(SHAPE, 0, 0).support_x)


def test_digits_parts_hold_disjoint_images_and_tasks_are_random_subsets():
    parts = {p: DigitsMLP(p) for p in ("train", "val", "test")}
    rows = {p: {tuple(x.tolist()) for x in f.x} for p, f in parts.items()}
    assert not rows["train"] & rows["test"] and sum(len(f.y) for f in parts.values()) == 1797
    a, b = parts["train"].fixed(SHAPE, 0, 0), parts["train"].fixed(SHAPE, 0, 1)
    assert a.support_x.shape == (400, 64) and 0 <= float(a.support_x.min()) and float(a.support_x.max()) <= 1
    assert not torch.equal(a.support_x, b.support_x)


def test_an_untrained_optimizer_scores_near_chance_cross_entropy_on_classifier_problems(omniglot_val):
    family = OmniglotMLP(omniglot_val, "val")
    episode = family.fixed(SHAPE, 0, 0)
    assert episode.support_x.shape == (200, 784) and episode.support_y.bincount().tolist() == [20] * 10
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        learner = build_learner("l2o", {**family.learner_defaults(SHAPE), "unroll": 5})
    result = evaluate(learner, family, shots=1, episodes=4)
    assert result.metric == "loss" and 1.5 < result.mean < 4.0  # ln 10 = 2.30 at chance
