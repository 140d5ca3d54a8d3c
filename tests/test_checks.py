"""metalab.checks: constraints declared on config fields, checked by type and range, and text
read by the declared type; every learner config and TrainConfig use it."""

import dataclasses

import pytest

from metalab.algorithms import ALGORITHMS, learner_config
from metalab.algorithms.gradient.maml import MAMLConfig
from metalab.algorithms.gradient.reptile import ReptileConfig
from metalab.checks import convert, option, validate
from metalab.data.preprocess import Preprocess
from metalab.errors import ConfigError
from metalab.training.config import TrainConfig

CONFIGS = sorted({cls.Config for cls in ALGORITHMS.values()} | {TrainConfig, Preprocess}, key=lambda c: c.__name__)


@dataclasses.dataclass(frozen=True)
class _Example:
    size: int = option(3, minimum=1, meaning=" (pixels)")
    rate: float = option(0.5, above=0)
    mode: str = option("a", choices=("a", "b"))
    cap: int | None = option(None, minimum=0)
    flag: bool = False

    def __post_init__(self) -> None:
        validate(self)


@pytest.mark.parametrize(("values", "message"), [
    ({"size": 0}, r"size must be an integer >= 1 \(pixels\), got 0"),
    ({"size": 2.0}, r"size must be an integer >= 1 \(pixels\), got 2.0"),
    ({"size": True}, r"size must be an integer >= 1 \(pixels\), got True"),
    ({"rate": 0}, r"rate must be a positive number, got 0"),
    ({"rate": float("nan")}, r"rate must be a positive number, got nan"),
    ({"rate": "fast"}, r"rate must be a positive number, got 'fast'"),
    ({"mode": "c"}, r"mode must be one of \['a', 'b'\], got 'c'"),
    ({"cap": -1}, r"cap must be an integer >= 0 or None, got -1"),
    ({"flag": "yes"}, r"flag must be true or false, got 'yes'"),
])
def test_a_declared_field_rejects_a_wrong_type_or_range_naming_field_value_and_expectation(values, message):
    with pytest.raises(ConfigError, match=message) as caught:
        _Example(**values)
    assert caught.value.fields == tuple(values)


def test_text_is_read_by_the_declared_type():
    assert convert(_Example, "rate", "1e-3") == 0.001  # YAML would read 1e-3 as text
    assert convert(_Example, "size", "7") == 7
    assert convert(_Example, "cap", "none") is None and convert(_Example, "cap", "4") == 4
    assert convert(_Example, "flag", "true") is True and convert(_Example, "flag", "off") is False
    with pytest.raises(ConfigError, match=r"size must be an integer >= 1 \(pixels\), got 'seven'"):
        convert(_Example, "size", "seven")
    with pytest.raises(ConfigError, match=r"_Example has no field 'colour'; known: \['cap', 'flag', 'mode', 'rate', 'size'\]"):
        convert(_Example, "colour", "red")


def test_a_subclass_that_changes_a_default_keeps_the_declared_constraint():
    with pytest.raises(ConfigError, match="inner_steps must be an integer >= 1"):
        ReptileConfig(inner_steps=0)


def test_a_rule_between_fields_names_the_field():
    with pytest.raises(ConfigError, match="image_size must be an integer >= 16 for the conv4 backbone") as caught:
        MAMLConfig(image_size=8)
    assert caught.value.fields == ("image_size",)
    assert MAMLConfig(backbone="mlp", image_size=1).image_size == 1  # vectors have no image size


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_rejects_a_value_of_the_wrong_type_in_every_field(config):
    base = {"steps": 1} if config is TrainConfig else {}
    for field in dataclasses.fields(config):
        if field.name in ("steps",) and config is TrainConfig:
            continue
        with pytest.raises(ConfigError, match=field.name):
            config(**{**base, field.name: object()})


def test_an_unknown_choice_suggests_the_nearest_one():
    with pytest.raises(ConfigError, match=r"got 'protnet'; did you mean 'protonet'\?"):
        TrainConfig(algorithm="protnet", steps=1)


def test_training_options_check_the_learner_and_preprocess_values_where_they_enter():
    with pytest.raises(ConfigError, match="inner_lr must be a positive number, got 'abc'"):
        TrainConfig.from_dict({"algorithm": "maml", "steps": 1, "learner": {"inner_lr": "abc"}})
    assert TrainConfig.from_dict({"algorithm": "maml", "steps": 1, "learner": {"inner_lr": "1e-3"}}).learner["inner_lr"] == 0.001
    assert TrainConfig.from_dict({"budget": "10m", "lr": "1e-3"}).budget == 600
    with pytest.raises(ConfigError, match=r"protonet has no hyperparameter\(s\) \['nosuch'\]; known: \['backbone', 'chunk', 'hidden', 'in_channels'\]"):
        TrainConfig(steps=1, learner={"nosuch": 1})
    with pytest.raises(ConfigError, match=r"preprocess.size must be an integer in \[4, 1024\], got 2"):
        TrainConfig(steps=1, preprocess={"size": 2})
    with pytest.raises(ConfigError, match=r"preprocess has no option\(s\) \['colour'\]"):
        TrainConfig(steps=1, preprocess={"colour": 1})


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_learner_config_checks_its_fields(algorithm):
    """ProtoNet and Siamese included: each has at least one range-checked field."""
    for field in dataclasses.fields(ALGORITHMS[algorithm].Config):
        if field.type.split(" |")[0] in ("int", "float"):
            with pytest.raises(ConfigError, match=f"{field.name} must be"):
                learner_config(algorithm, {field.name: -1})
