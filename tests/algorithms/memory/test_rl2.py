"""RL^2 on Bernoulli bandits: a short meta-training beats random play on held-out tasks, runs
resume exactly (the trials replay from the checkpointed task stream), and the CLI trains and
evaluates it with the family's metric."""

import json

import pytest
import torch

from metalab.algorithms import build_learner
from metalab.algorithms.memory.rl2 import RL2
from metalab.cli import main
from metalab.errors import ConfigError
from metalab.evaluation.bandits import evaluate_strategy
from metalab.evaluation.evaluate import evaluate
from metalab.tasks.bandit import Bandit
from metalab.tasks.family import TaskShape
from metalab.tasks.stream import TaskStream
from metalab.training.checkpoint import load_checkpoint
from metalab.training.config import TrainConfig
from metalab.training.loop import new_learner, train


pytestmark = pytest.mark.usefixtures("one_thread")  # many tiny ops


def small_learner(**values) -> RL2:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_learner("rl2", {"arms": 5, "hidden": 32, **values})


def test_short_meta_training_beats_random_play_on_held_out_bandits():
    learner = small_learner()
    optimizer = torch.optim.Adam(learner.parameters(), 2e-3)
    stream = TaskStream(Bandit("train"), TaskShape(5, 10, 4), meta_batch=16, seed=0)
    for _ in range(200):
        for result in learner.meta_losses(next(stream)):
            optimizer.zero_grad()
            result.loss.backward()
            optimizer.step()
    shape = TaskShape(5, 10, 4)
    ours = evaluate(learner, Bandit("test"), ways=5, shots=10, queries=4, episodes=150)
    random = evaluate_strategy("random", Bandit("test"), shape, episodes=150)
    (regret, regret_ci), (random_regret, random_ci) = ours.breakdown["regret"], random.breakdown["regret"]
    assert random_regret - regret > regret_ci + random_ci, (ours, random)  # by more than both CIs
    assert ours.mean > random.mean + random.ci95, (ours, random)


def test_adapt_plays_one_trial_and_returns_the_next_pull_distribution():
    learner = small_learner().eval()
    task = Bandit("test").fixed(TaskShape(5, 12, 3), 0, 0)
    with torch.no_grad():
        phi = learner.adapt(task.support_x, task.support_y, 5)
    assert phi.actions.shape == (12,) and phi.rewards.shape == (12,) and phi.outcome.shape == (2,)
    assert phi.outcome[0] == phi.rewards.sum() and phi.outcome[1] >= 0
    probabilities = phi(task.query_x)
    assert probabilities.shape == (3, 5) and torch.allclose(probabilities.sum(-1), torch.ones(3))


def config(tmp_path, **changes) -> TrainConfig:
    values = dict(algorithm="rl2", dataset="bandit", ways=5, shots=10, queries=2, meta_batch=4, steps=4, val_every=2,
                  val_episodes=5, out=str(tmp_path / "run"), seed=0, learner={"hidden": 16, "epochs": 2})
    values.update(changes)
    return TrainConfig(**values)


def test_resumed_run_equals_uninterrupted_run_with_the_same_trials(tmp_path, kill_during):
    train(config(tmp_path / "a"), progress=False)
    first = config(tmp_path / "b")
    killed = kill_during(new_learner(first, Bandit("train"), TaskShape(5, 10, 2)), 4)  # last.pt: step 2
    with pytest.raises(KeyboardInterrupt):
        train(first, progress=False, learner=killed)
    state = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert state["step"] == 2 and "generator" in state["streams"][0]  # the trials' seeds come from it
    train(first, resume=True, progress=False)
    a = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    assert a["step"] == b["step"] == 4
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert all(torch.equal(a["optimizer"]["state"][i]["exp_avg"], b["optimizer"]["state"][i]["exp_avg"])
               for i in a["optimizer"]["state"])
    assert not all(torch.equal(a["model"][k], state["model"][k]) for k in a["model"])  # steps 3-4 moved it


def test_cli_trains_rl2_on_bandits_and_eval_prints_total_reward_and_regret_with_cis(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "rl2", "--dataset", "bandit", "--ways", "5", "--shots", "10",
                 "--queries", "2", "--meta-batch", "4", "--steps", "2", "--val-every", "2", "--val-episodes", "4",
                 "--set", "hidden=16", "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", str(run), "--shots", "10", "--queries", "3", "--episodes", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["algorithm"] == "rl2" and result["metric"] == "total_reward"
    assert 0 <= result["total_reward"] <= 10 and result["ci95"] > 0
    assert result["arms"] == 5 and result["pulls"] == 10 and result["trials"] == 3 and result["episodes"] == 6
    assert result["breakdown"]["regret"]["mean"] >= 0 and result["breakdown"]["regret"]["ci95"] > 0


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ConfigError, match="plays 5 arms, the tasks have 3"):
        evaluate(small_learner(), Bandit("test"), ways=3, shots=10, queries=1, episodes=2)
    with pytest.raises(ConfigError, match="rl2 learns bandit and rl tasks.*sinusoid"):
        train(TrainConfig(algorithm="rl2", dataset="sinusoid", steps=1, out=str(tmp_path / "r")), progress=False)
    with pytest.raises(ConfigError, match="maml-rl learns rl tasks.*bandit"):
        train(TrainConfig(algorithm="maml-rl", dataset="bandit", ways=5, steps=1, out=str(tmp_path / "r")),
              progress=False)
    with pytest.raises(ConfigError, match="gae_lambda"):
        build_learner("rl2", {"gae_lambda": 2.0})
    with pytest.raises(ConfigError, match="rl2 env must be one of.*'maze'"):
        build_learner("rl2", {"env": "maze"})
