"""Training options a run leaves unstated take the learner's measured defaults."""

import pytest

from metalab.algorithms import ALGORITHMS
from metalab.training.config import TrainConfig
from metalab.training.defaults import GENERAL, LEARNER_MEASURED, MEASURED, learner_defaults, training_defaults

UNSTATED = tuple(GENERAL)  # queries, meta_batch, lr


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_an_image_run_that_states_nothing_gets_the_learners_measured_options(algorithm):
    config = TrainConfig(algorithm=algorithm, dataset="omniglot", steps=1)
    expected = {**GENERAL, **MEASURED.get(algorithm, {})}
    assert {k: getattr(config, k) for k in UNSTATED} == expected


def test_stated_options_win_and_are_stored_as_given():
    algorithm = next(iter(MEASURED), "maml")
    stated = {"queries": 7, "meta_batch": 3, "lr": 0.0123}
    config = TrainConfig(algorithm=algorithm, dataset="omniglot", steps=1, **stated)
    assert {k: getattr(config, k) for k in UNSTATED} == stated
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_the_measured_options_apply_to_image_families_only():
    for algorithm in MEASURED:
        assert training_defaults(algorithm, "sinusoid") == GENERAL
        assert training_defaults(algorithm, "folder") == {**GENERAL, **MEASURED[algorithm]}


def test_a_stored_config_keeps_the_values_it_ran_with():
    stored = TrainConfig(algorithm="maml", dataset="omniglot", steps=1).to_dict()
    assert all(stored[k] is not None for k in UNSTATED)


@pytest.mark.parametrize("algorithm", sorted(LEARNER_MEASURED))
def test_an_image_run_gets_the_learners_measured_hyperparameters_unless_it_states_them(algorithm):
    measured = LEARNER_MEASURED[algorithm]
    assert TrainConfig(algorithm=algorithm, dataset="omniglot", steps=1).learner == measured
    stated = {name: not value if isinstance(value, bool) else value for name, value in measured.items()}
    assert TrainConfig(algorithm=algorithm, dataset="omniglot", steps=1, learner=stated).learner == stated
    assert learner_defaults(algorithm, "sinusoid") == {}
    assert TrainConfig(algorithm=algorithm, dataset="sinusoid", steps=1).learner == {}


@pytest.mark.parametrize("algorithm", sorted(LEARNER_MEASURED))
def test_the_measured_hyperparameters_differ_from_the_learners_config(algorithm):
    config = ALGORITHMS[algorithm].Config()
    assert all(getattr(config, name) != value for name, value in LEARNER_MEASURED[algorithm].items())


def test_paper_configs_state_every_measured_hyperparameter_of_their_learner():
    import yaml
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")):
        values = yaml.safe_load(path.read_text())
        measured = LEARNER_MEASURED.get(values.get("algorithm"), {})
        unstated = set(measured) - set(values.get("learner") or {})
        assert not unstated, f"{path.name} leaves {sorted(unstated)} to the 3-minute defaults"
