"""Training options a run leaves unstated take the learner's measured defaults."""

import pytest

from metalab.algorithms import ALGORITHMS
from metalab.training.config import TrainConfig
from metalab.training.defaults import GENERAL, MEASURED, training_defaults

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
