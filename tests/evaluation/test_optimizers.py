"""Loss curves of learned and torch.optim optimizers on the same problems and starts."""

import torch

from metalab.algorithms import build_learner
from metalab.evaluation.evaluate import evaluate
from metalab.evaluation.optimizers import loss_curves
from metalab.tasks.optimizees import Quadratics


def untrained():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("l2o", {"unroll": 30})


def test_the_learned_curve_ends_at_what_evaluate_reports():
    learner = untrained()
    curves = loss_curves(learner, Quadratics("test"), 30, count=12, batch=5)
    assert curves.shape == (12, 31)
    assert torch.isclose(curves[:, -1].mean(), torch.tensor(evaluate(learner, Quadratics("test"), shots=1,
                                                                     episodes=12).mean, dtype=torch.float64))


def test_every_optimizer_starts_from_the_same_points_and_sgd_descends():
    learner = untrained()
    sgd = loss_curves(learner, Quadratics("test"), 20, count=8, make_optimizer=lambda p: torch.optim.SGD(p, 1e-3))
    adam = loss_curves(learner, Quadratics("test"), 20, count=8, make_optimizer=lambda p: torch.optim.Adam(p, 0.1))
    learned = loss_curves(learner, Quadratics("test"), 20, count=8)
    assert torch.equal(sgd[:, 0], adam[:, 0]) and torch.allclose(sgd[:, 0], learned[:, 0])
    assert (sgd[:, 1:] <= sgd[:, :-1] + 1e-9).all()  # a small step on a quadratic never goes up


def test_baselines_step_on_the_learned_optimizers_minibatches_unless_full_batch():
    from metalab.tasks.optimizees import DigitsMLP
    from metalab.tasks.family import TaskShape
    from metalab.tasks.stream import fixed_tasks

    learner = build_learner("l2o", {**DigitsMLP("test").learner_defaults(TaskShape(None, 1, 1)), "unroll": 3})
    tasks, lr = DigitsMLP("test", examples=300), 0.5
    sgd = lambda p: torch.optim.SGD(p, lr)  # noqa: E731
    mini = loss_curves(learner, tasks, 1, make_optimizer=sgd, count=2, batch=2)
    full = loss_curves(learner, tasks, 1, make_optimizer=sgd, count=2, batch=2, full_batch=True)
    (episode,) = fixed_tasks(tasks, TaskShape(None, 1, 1), seed=0, count=2, batch=2)
    x, y = episode.support_x, episode.support_y
    expected = {}
    for name, objective in (("mini", learner.objective(episode)), ("full", lambda p: learner.task_losses(p, x, y))):
        params = {k: v.requires_grad_() for k, v in learner.initial_params(x).items()}
        grads = torch.autograd.grad(objective(params).sum(), list(params.values()))
        stepped = {k: v - lr * g for (k, v), g in zip(params.items(), grads)}
        expected[name] = learner.task_losses(stepped, x, y).detach().double()
    assert torch.allclose(mini[:, 1], expected["mini"]) and torch.allclose(full[:, 1], expected["full"])
    assert not torch.allclose(mini[:, 1], full[:, 1])
