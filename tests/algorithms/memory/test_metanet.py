import pytest
import torch
import torch.nn.functional as F

from metalab.algorithms.memory.metanet import MetaNet, MetaNetConfig, example_gradients
from metalab.errors import ConfigError
from metalab.tasks.family import TaskShape
from metalab.tasks.image import ImageClassification
from metalab.tasks.stream import TaskStream


def small(**values) -> MetaNet:
    torch.manual_seed(0)
    return MetaNet(MetaNetConfig(**{"hidden": 8, "units": 16, **values}))


@pytest.fixture(scope="module")
def batch(omniglot_train, first_classes):
    return next(TaskStream(ImageClassification(first_classes(omniglot_train, 100)), TaskShape(5, 1, 3), meta_batch=2,
                           seed=0))


def test_example_gradients_equal_each_example_differentiated_alone():
    weight, inputs, targets = torch.randn(3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    grads = example_gradients(lambda copies: ((copies[0] @ inputs.unsqueeze(-1)).squeeze(-1) - targets).pow(2).sum(-1),
                              [weight], (2, 5))[0]
    for t in range(2):
        for e in range(5):
            w = weight.clone().requires_grad_()
            alone = torch.autograd.grad((w @ inputs[t, e] - targets[t, e]).pow(2).sum(), w)[0]
            assert torch.allclose(grads[t, e], alone)


def test_example_gradients_are_differentiable_in_the_inputs_only_when_gradients_are_recorded():
    weight, inputs = torch.randn(3, 4), torch.randn(5, 4, requires_grad=True)
    loss = lambda copies: (copies[0] @ inputs.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)  # noqa: E731
    assert example_gradients(loss, [weight], (5,))[0].requires_grad
    with torch.no_grad():
        assert not example_gradients(loss, [weight], (5,))[0].requires_grad


def test_predictions_depend_on_the_support_set_through_the_fast_weights(batch):
    learner = small().eval()
    task, other = batch.task(0), batch.task(1)
    with torch.no_grad():
        logits = learner.adapt(task.support_x, task.support_y, 5)(task.query_x)
        changed = learner.adapt(other.support_x, task.support_y, 5)(task.query_x)
        relabelled = learner.adapt(task.support_x, task.support_y.roll(1), 5)(task.query_x)
    assert not torch.allclose(logits, changed, atol=1e-4)
    assert not torch.allclose(logits, relabelled, atol=1e-4)  # the labels reach the fast weights via the gradients


def test_each_query_reads_its_own_fast_weights_and_not_the_other_queries(batch):
    learner = small().eval()
    task = batch.task(0)
    with torch.no_grad():
        model = learner.adapt(task.support_x, task.support_y, 5)
        together = model(task.query_x)
        alone = torch.cat([model(task.query_x[i : i + 1]) for i in range(len(task.query_x))])
    assert torch.allclose(together, alone, atol=1e-5)


def test_the_fast_weight_generators_and_the_attention_receive_gradients(batch):
    learner = small()
    learner.meta_loss(batch).loss.backward()
    for module in (learner.m_hidden, learner.m_output, learner.d):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0, module
    for name in ("attention_scale", "pair_scale"):
        grad = getattr(learner, name).grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_the_fast_weight_path_trains_the_base_trunk_through_the_meta_information(batch):
    """With the slow path's softmax layer zeroed, the trunk of b still gets a gradient: through the
    support gradients (meta-information) and the fast weights read by the queries."""
    learner = small()
    with torch.no_grad():
        learner.base_out.weight.zero_()
    n = batch.support_y.shape[1]
    base, embedded = learner.trunks(torch.cat([batch.support_x, batch.query_x], 1))
    support = base[:, :n].detach().requires_grad_()
    memory = learner.write(support, embedded[:, :n], batch.support_y)
    logits = learner.classify(memory, base[:, n:].detach(), embedded[:, n:].detach())
    F.cross_entropy(logits.flatten(0, 1), batch.query_y.flatten()).backward()
    assert support.grad is not None and support.grad.abs().sum() > 0


def test_gradients_are_preprocessed_with_the_configured_k():
    learner = small(k=7.0)
    tiny, large = torch.tensor([1e-4]), torch.tensor([1e-2])  # e^-7 = 9.1e-4 lies between them
    for module in (learner.m_hidden, learner.d):
        assert module.k == 7.0
    # below e^-k the log-and-sign transform is linear in the gradient: (-1, e^k g)
    inputs = []
    learner.m_hidden.net[0].register_forward_hook(lambda mod, args, out: inputs.append(args[0]))
    learner.m_hidden(torch.cat([tiny, large]))
    assert torch.allclose(inputs[0][0], torch.tensor([-1.0, 1e-4 * torch.e**7]))
    assert torch.allclose(inputs[0][1], torch.tensor([torch.log(large)[0] / 7, 1.0]))


def test_tasks_of_other_ways_or_image_sizes_are_named_errors(batch):
    learner = small()
    task = batch.task(0)
    with pytest.raises(ConfigError, match="outputs=20"):
        learner.adapt(task.support_x, task.support_y, 20)
    with pytest.raises(ConfigError, match="image_size"):
        learner.adapt(task.support_x[..., :20, :20], task.support_y, 5)
    with pytest.raises(ConfigError, match="label"):
        small(outputs=3).adapt(task.support_x, task.support_y, 3)
