import dataclasses
import math

import pytest
import torch

from metalab.algorithms.memory.mann import MANN, MANNConfig, cosine_similarity, least_used
from metalab.errors import ConfigError
from metalab.tasks.family import TaskShape
from metalab.tasks.stream import TaskStream


def small(**values) -> MANN:
    torch.manual_seed(0)
    return MANN(MANNConfig(**{"hidden": 32, "slots": 16, "width": 8, "heads": 2, "side": 6, **values}))


def test_cosine_of_empty_memory_is_zero_with_finite_gradient():
    keys = torch.randn(2, 3, 4, requires_grad=True)
    memory = torch.zeros(2, 5, 4, requires_grad=True)
    similarity = cosine_similarity(keys, memory)
    assert torch.equal(similarity, torch.zeros(2, 3, 5))
    similarity.sum().backward()
    assert torch.isfinite(keys.grad).all() and torch.isfinite(memory.grad).all()


def test_cosine_matches_torch_on_nonzero_rows():
    keys, memory = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    expected = torch.nn.functional.cosine_similarity(keys.unsqueeze(2), memory.unsqueeze(1), dim=-1)
    assert torch.allclose(cosine_similarity(keys, memory), expected, atol=1e-6)


def test_least_used_marks_the_n_smallest_usages():
    usage = torch.tensor([[0.5, 0.1, 0.9, 0.2, 0.3]])
    assert least_used(usage, 2).tolist() == [[0.0, 1.0, 0.0, 1.0, 0.0]]


def test_first_write_goes_to_the_least_used_slots_only():
    learner = small()
    state = learner.initial_state(1, torch.zeros(1))
    _, after = learner.step(state, torch.rand(1, 1, 6, 6))
    written = after.memory.abs().sum(-1)[0]
    assert (written[:2] > 0).all() and (written[2:] == 0).all()  # heads=2: slots 0 and 1
    assert torch.allclose(after.read_w.sum(-1), torch.ones(1, 2))  # reads are distributions


def test_distinct_slots_give_each_head_one_least_used_slot_of_its_own_and_zero_them():
    learner = small(distinct_slots=True, heads=3)
    state = learner.initial_state(2, torch.zeros(1))
    usage = torch.rand(2, 16)
    memory = torch.randn(2, 16, 8)
    state = dataclasses.replace(state, usage=usage, memory=memory)
    with torch.no_grad():
        learner.gates.bias.fill_(-50.0)  # every write goes to the least-used slots
        _, after = learner.step(state, torch.rand(2, 1, 6, 6))
    fresh = usage.argsort(-1)[:, :3]  # the 3 least-used slots, least used first
    for b in range(2):
        for j in range(3):  # head j writes exactly once, into the j-th least-used slot
            assert after.write_w[b, j].argmax() == fresh[b, j]
            assert torch.isclose(after.write_w[b, j].sum(), torch.tensor(1.0))
            key = torch.tanh(learner.keys(after.h))[b].view(3, 8)[j]
            assert torch.allclose(after.memory[b, fresh[b, j]], key, atol=1e-5)
        untouched = torch.ones(16, dtype=torch.bool)
        untouched[fresh[b]] = False
        assert torch.equal(after.memory[b, untouched], memory[b, untouched])


def test_shared_least_used_write_adds_every_head_to_every_least_used_slot():
    learner = small(heads=2)  # Eq. 8 as written: one w^lu with the 2 least-used slots, shared by both heads
    state = learner.initial_state(1, torch.zeros(1))
    with torch.no_grad():
        learner.gates.bias.fill_(-50.0)
        _, after = learner.step(state, torch.rand(1, 1, 6, 6))
    keys = torch.tanh(learner.keys(after.h)).view(2, 8)
    assert torch.allclose(after.memory[0, 0], keys.sum(0), atol=1e-5)
    assert torch.allclose(after.memory[0, 1], keys.sum(0), atol=1e-5)


def test_read_before_write_reads_the_memory_without_the_steps_own_key():
    state = small().initial_state(1, torch.zeros(1))
    memory = torch.randn(1, 16, 8)
    state = dataclasses.replace(state, memory=memory, usage=torch.rand(1, 16))
    x = torch.rand(1, 1, 6, 6)
    after_write, before_write = small(), small(read_before_write=True)  # same seed: same weights
    with torch.no_grad():
        _, a = after_write.step(state, x)
        _, b = before_write.step(state, x)
    assert torch.allclose(a.memory, b.memory)  # the write itself is unchanged
    erased = memory.clone()
    erased[0, state.usage.argmin()] = 0.0
    keys = torch.tanh(before_write.keys(b.h)).view(1, 2, 8)
    expected = torch.softmax(cosine_similarity(keys, erased), -1)
    assert torch.allclose(b.read_w, expected, atol=1e-6)
    assert torch.allclose(b.reads, (expected @ erased).flatten(1), atol=1e-6)
    assert not torch.allclose(a.read_w, b.read_w)


def test_initial_strength_sharpens_the_first_reads_and_needs_key_strength():
    x = torch.rand(1, 6, 1, 6, 6)
    y = torch.tensor([[0, 1, 2, 0, 1, 2]])

    def entropy(**values) -> float:
        learner = small(key_strength=True, **values)
        with torch.no_grad():
            _, state = learner.run(x, y)
        return float(-(state.read_w * state.read_w.clamp_min(1e-12).log()).sum(-1).mean())

    assert entropy(initial_strength=30.0) < entropy() - 0.5
    learner = small(key_strength=True, initial_strength=10.0)
    assert torch.allclose(1 + torch.nn.functional.softplus(learner.strengths.bias), torch.full((2,), 10.0))
    with pytest.raises(ConfigError, match="key_strength"):
        MANNConfig(initial_strength=10.0)


def test_usage_decays_by_gamma_and_adds_read_and_write_weights():
    learner = small(gamma=0.5)
    state = learner.initial_state(1, torch.zeros(1))
    _, one = learner.step(state, torch.rand(1, 1, 6, 6))
    _, two = learner.step(one, torch.rand(1, 1, 6, 6))
    gate = torch.sigmoid(learner.gates(two.h)).unsqueeze(-1)  # step 2's write gate, from its h
    write_w = gate * one.read_w + (1 - gate) * one.least_used.unsqueeze(1)
    assert torch.allclose(two.usage, 0.5 * one.usage + two.read_w.sum(1) + write_w.sum(1), atol=1e-6)


def test_prediction_at_a_step_never_sees_its_own_or_later_labels():
    learner = small().eval()
    x, y = torch.rand(1, 8, 1, 6, 6), torch.randint(0, 5, (1, 8))
    changed = y.clone()
    changed[0, 4] = (y[0, 4] + 1) % 5
    a, _ = learner.run(x, y)
    b, _ = learner.run(x, changed)
    assert torch.equal(a[:, :5], b[:, :5]) and not torch.allclose(a[:, 5:], b[:, 5:])


def test_lstm_baseline_has_no_memory_and_fewer_parameters():
    with_memory, baseline = small(), small(memory=False)
    assert baseline.keys is None
    assert sum(p.numel() for p in baseline.parameters()) < sum(p.numel() for p in with_memory.parameters())
    logits, _ = baseline.run(torch.rand(2, 3, 1, 6, 6), torch.randint(0, 5, (2, 3)))
    assert logits.shape == (2, 3, 5)


def test_images_of_another_size_are_area_resized():
    learner = small()
    assert learner._images(torch.ones(3, 1, 28, 28)).shape == (3, 36)


@pytest.mark.parametrize("values, match", [({"heads": 200}, "heads"), ({"gamma": 1.5}, "gamma"),
                                           ({"outputs": 1}, "outputs"), ({"memory": "yes"}, "memory")])
def test_bad_hyperparameters_are_named(values, match):
    with pytest.raises(ConfigError, match=match):
        MANNConfig(**values)


def test_task_of_other_ways_than_built_for_says_how_to_fix():
    with pytest.raises(ConfigError, match="set outputs=3"):
        small().adapt(torch.rand(3, 1, 6, 6), torch.arange(3), 3)


def test_short_training_on_sequences_gets_loss_clearly_below_chance(omniglot_train, first_classes):
    """NTM-style models stall at ln(ways) or go NaN; this one must leave chance within seconds
    (first by guessing labels not yet shown for classes not yet seen)."""
    from metalab.tasks.sequences import OmniglotSequences

    torch.set_num_threads(1)  # 150 x 18 tiny recurrent steps: a second thread only adds overhead
    family = OmniglotSequences(first_classes(omniglot_train, 200))
    ways = 3
    stream = TaskStream(family, TaskShape(ways, 6, 1), meta_batch=16, seed=0)
    learner = small(outputs=ways, hidden=64, slots=32, width=16, heads=1, side=10, key_strength=True)
    optimizer = torch.optim.Adam(learner.parameters(), 3e-3)
    losses = []
    for _ in range(STEPS):
        result = learner.meta_loss(next(stream))
        optimizer.zero_grad()
        result.loss.backward()
        torch.nn.utils.clip_grad_norm_(learner.parameters(), 10.0)
        optimizer.step()
        losses.append(result.loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-20:]) / 20 < 0.95 * math.log(ways), losses[-20:]


STEPS = 150
