import dataclasses
import json

import pytest
import torch

from metalab.algorithms import ProtoNet
from metalab.errors import CheckpointError, ConfigError, TrainingDivergedError
from metalab.training.checkpoint import load_checkpoint, load_learner, save_checkpoint
from metalab.training.config import TrainConfig, parse_duration
from metalab.tasks.family import TaskShape
from metalab.tasks.image import ImageClassification
from metalab.training.loop import new_learner, train


@pytest.fixture(scope="module")
def small_data(omniglot_train, omniglot_val, first_classes):
    return ImageClassification(first_classes(omniglot_train, 100)), ImageClassification(first_classes(omniglot_val, 40))


def config(tmp_path, **changes) -> TrainConfig:
    values = dict(ways=5, shots=1, queries=3, meta_batch=2, steps=12, val_every=4, val_episodes=5,
                  out=str(tmp_path / "run"), seed=0, learner={"hidden": 16})
    values.update(changes)
    return TrainConfig(**values)


def test_run_folder_holds_checkpoints_log_curve_and_config(tmp_path, small_data):
    result = train(config(tmp_path), progress=False, tasks=small_data)
    run = tmp_path / "run"
    for name in ("best.pt", "last.pt", "metrics.jsonl", "curve.png", "config.yaml"):
        assert (run / name).is_file(), name
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val_accuracy" in r] == [0, 4, 8, 12]
    assert load_checkpoint(run / "last.pt")["step"] == 12 == result.steps
    assert load_checkpoint(run)["step"] == result.best_step


def test_resumed_run_equals_uninterrupted_run(tmp_path, small_data, kill_during):
    train(config(tmp_path / "a"), progress=False, tasks=small_data)
    killed = kill_during(new_learner(config(tmp_path / "b"), small_data[0], TaskShape(5, 1, 3)), 11)  # last.pt: step 8
    with pytest.raises(KeyboardInterrupt):
        train(config(tmp_path / "b"), progress=False, tasks=small_data, learner=killed)
    assert load_checkpoint(tmp_path / "b" / "run" / "last.pt")["step"] == 8
    train(config(tmp_path / "b"), resume=True, progress=False, tasks=small_data)
    a = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert a["step"] == b["step"] == 12
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    log_a = (tmp_path / "a" / "run" / "metrics.jsonl").read_text().splitlines()
    log_b = (tmp_path / "b" / "run" / "metrics.jsonl").read_text().splitlines()
    strip = lambda lines: [{k: v for k, v in json.loads(l).items() if k != "time"} for l in lines]  # noqa: E731
    assert strip(log_a) == strip(log_b)


def test_existing_run_needs_resume(tmp_path, small_data):
    train(config(tmp_path, steps=2), progress=False, tasks=small_data)
    with pytest.raises(ConfigError, match=r"already holds a run .* resume it \(resume\) or choose another run folder \(out\)"):
        train(config(tmp_path, steps=2), progress=False, tasks=small_data)


class _DivergesAtStep3(ProtoNet):
    calls = 0

    def meta_loss(self, batch):
        out = super().meta_loss(batch)
        type(self).calls += 1
        if type(self).calls > 3:
            return dataclasses.replace(out, loss=out.loss * float("nan"))
        return out


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, small_data):
    learner = _DivergesAtStep3(ProtoNet.Config(hidden=16))
    learner.name = "protonet"
    with pytest.raises(TrainingDivergedError, match="meta-loss is nan at step 3.*last.pt holds the last finite state"):
        train(config(tmp_path), progress=False, tasks=small_data, learner=learner)
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["step"] == 3
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert load_checkpoint(tmp_path / "run" / "best.pt")["step"] == 0
    assert '"event": "diverged"' in (tmp_path / "run" / "metrics.jsonl").read_text()


def test_corrupt_checkpoint_is_reported(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="corrupt or not a PyTorch file"):
        load_checkpoint(path)


def test_truncated_checkpoint_is_reported(tmp_path, small_data):
    train(config(tmp_path, steps=2), progress=False, tasks=small_data)
    data = (tmp_path / "run" / "best.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_learner(tmp_path / "cut.pt")


def test_foreign_checkpoint_is_reported(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a metalab checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_missing_checkpoint_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    save_checkpoint({"a": 1}, tmp_path / "c.pt")
    def crash(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"a": 2}, tmp_path / "c.pt")
    assert torch.load(tmp_path / "c.pt", weights_only=True)["a"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_budget_becomes_a_step_count_that_fits(tmp_path, small_data):
    result = train(config(tmp_path, steps=None, budget=6.0, val_every=1000), progress=False, tasks=small_data)
    assert result.steps > 12
    assert load_checkpoint(tmp_path / "run" / "last.pt")["total_steps"] == result.steps
    assert result.elapsed < 6.0 * 1.5


def test_budget_tracks_wall_time_when_the_pace_slows(tmp_path, small_data, monkeypatch):
    """A fake clock: steps take 0.01 s while the first step count is estimated, then 0.05 s. The
    run must still end at its 10 s budget (a step count fixed from the first steps' pace would
    run ~1,000 steps, ~48 s)."""
    import types
    from metalab.training import loop

    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    original = ProtoNet.set_training_step

    def timed_step(self, step):
        clock.now += 0.01 if step < 30 else 0.05
        original(self, step)

    monkeypatch.setattr(ProtoNet, "set_training_step", timed_step)
    result = train(config(tmp_path, steps=None, budget=10.0, val_every=1000), progress=False, tasks=small_data)
    assert abs(result.elapsed - 10.0) < 1.5, result.elapsed
    assert 180 < result.steps < 250


@pytest.mark.parametrize("val_every", [None, 250])
def test_a_budget_run_without_val_every_validates_less_often_when_validation_is_costly(
        tmp_path, small_data, monkeypatch, val_every):
    """A fake clock: a step takes 0.01 s and a validation 2 s, a fifth of a 10 s budget. Unstated,
    validations are spaced to take at most a tenth of the time (2 s per 2,000 steps): only step 0
    and the last step validate. A stated val_every is kept."""
    import types
    from metalab.training import loop

    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    original_step, original_evaluate = ProtoNet.set_training_step, loop.evaluate

    def timed_step(self, step):
        clock.now += 0.01
        original_step(self, step)

    def timed_evaluate(*args, **kwargs):
        clock.now += 2.0
        return original_evaluate(*args, **kwargs)

    monkeypatch.setattr(ProtoNet, "set_training_step", timed_step)
    monkeypatch.setattr(loop, "evaluate", timed_evaluate)
    result = train(config(tmp_path, steps=None, budget=10.0, val_every=val_every), progress=False, tasks=small_data)
    log = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    validated = [r["step"] for r in log if "val_accuracy" in r]
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    if val_every is None:
        assert validated == [0, result.steps] and 1990 <= state["val_every"] <= 2010
        assert 560 < result.steps <= 600  # (10 - 2 - 2) s of 0.01 s steps
    else:
        assert validated == list(range(0, result.steps, 250)) + [result.steps] and state["val_every"] == 250
        assert result.steps < 400  # a validation every 250 steps is 0.8 s per 100 steps more
    assert abs(result.elapsed + 2.0 - 10.0) < 0.5, result.elapsed  # elapsed is read before the last validation


def test_train_part_chooses_the_classes_trained_on_and_validation_stays_on_val(tmp_path, small_data, monkeypatch):
    loaded = []

    def load_tasks(dataset, part, **options):
        loaded.append(part)
        return small_data[part == "val"]

    monkeypatch.setattr("metalab.training.loop.load_tasks", load_tasks)
    train(config(tmp_path, steps=2, val_every=2, train_part="train+val"), progress=False)
    assert loaded == ["train+val", "val"]
    stored = load_checkpoint(tmp_path / "run" / "last.pt")
    assert TrainConfig.from_dict(stored["config"]).train_part == "train+val"


def test_config_errors_name_the_fix():
    with pytest.raises(ConfigError, match="exactly one of steps"):
        TrainConfig(steps=None, budget=None)
    with pytest.raises(ConfigError, match="write e.g. 90s, 10m or 1h"):
        parse_duration("ten minutes")
    assert parse_duration("10m") == 600 and parse_duration("1.5h") == 5400


def test_rmsprop_option_trains_with_momentum_and_resumes_exactly(tmp_path, small_data, kill_during):
    rms = dict(optimizer="rmsprop", lr=1e-4)
    train(config(tmp_path / "a", **rms), progress=False, tasks=small_data)
    state = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    moments = next(iter(state["optimizer"]["state"].values()))
    assert {"square_avg", "momentum_buffer"} <= set(moments)
    assert state["optimizer"]["param_groups"][0]["alpha"] == 0.95
    killed = kill_during(new_learner(config(tmp_path / "b", **rms), small_data[0], TaskShape(5, 1, 3)), 11)
    with pytest.raises(KeyboardInterrupt):
        train(config(tmp_path / "b", **rms), progress=False, tasks=small_data, learner=killed)
    train(config(tmp_path / "b", **rms), resume=True, progress=False, tasks=small_data)
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert all(torch.equal(state["model"][k], b["model"][k]) for k in state["model"])
    with pytest.raises(ConfigError, match="optimizer.*adam.*rmsprop.*sgd"):
        TrainConfig(steps=1, optimizer="lbfgs")


def test_checkpoint_every_saves_between_validations_and_a_run_killed_there_resumes_exactly(
        tmp_path, small_data, kill_during):
    often = dict(val_every=6, checkpoint_every=2)
    train(config(tmp_path / "a", **often), progress=False, tasks=small_data)
    killed = kill_during(new_learner(config(tmp_path / "b", **often), small_data[0], TaskShape(5, 1, 3)), 10)
    with pytest.raises(KeyboardInterrupt):
        train(config(tmp_path / "b", **often), progress=False, tasks=small_data, learner=killed)
    assert load_checkpoint(tmp_path / "b" / "run" / "last.pt")["step"] == 8  # not 6, the last validation
    train(config(tmp_path / "b", **often), resume=True, progress=False, tasks=small_data)
    a = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert a["step"] == b["step"] == 12
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    strip = lambda run: [{k: v for k, v in json.loads(l).items() if k != "time"}  # noqa: E731
                         for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert strip(tmp_path / "a" / "run") == strip(tmp_path / "b" / "run")
    assert [r["step"] for r in strip(tmp_path / "a" / "run") if "val_accuracy" in r] == [0, 6, 12]
