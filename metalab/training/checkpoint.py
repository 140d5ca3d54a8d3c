"""Checkpoints: one dict, written atomically, checked when read.

A checkpoint holds what a run needs to resume exactly (model, optimizer, step, task-stream
generator, best validation, elapsed time) and what a user needs to use the model alone
(algorithm, learner hyperparameters, preprocessing, training configuration and command).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from metalab.errors import CheckpointError

FORMAT = "metalab-checkpoint"
VERSION = 5
REQUIRED = ("algorithm", "learner_config", "preprocess", "model", "config")
_GRADIENT_LEARNERS = ("maml", "fomaml", "anil", "metasgd", "reptile", "taml")


def upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """An older checkpoint in the current form (:func:`_upgrade_to_2`, :func:`_pin_learner_defaults`)."""
    if state.get("version", 1) < 2:
        state = _upgrade_to_2(state)
    if state["version"] < VERSION:
        state = _pin_learner_defaults(state)
    return state


def _pin_learner_defaults(state: dict[str, Any]) -> dict[str, Any]:
    """Versions 3 (MAML, TAML, first-order MAML), 4 (Meta-SGD) and 5 (first-order MAML's
    evaluation steps) gave learners measured
    hyperparameter defaults per task family (:data:`metalab.training.defaults.LEARNER_MEASURED`):
    an older run's stored training options state the values it ran with, so resuming it builds
    the same learner."""
    from metalab.training.defaults import LEARNER_MEASURED

    state = dict(state)
    config = dict(state["config"] or {})
    if config:
        ran_with = {name: state["learner_config"][name] for name in LEARNER_MEASURED.get(state["algorithm"], {})
                    if name in state["learner_config"]}
        config["learner"] = {**ran_with, **(config.get("learner") or {})}
    state["config"], state["version"] = config, VERSION
    return state


def _upgrade_to_2(state: dict[str, Any]) -> dict[str, Any]:
    """A version-1 checkpoint in the version-2 form (what changed with task families as plug-ins):

    - ``vmap`` and ``workers`` left the learner's hyperparameters (they are runtime options);
    - the optimization-based learners name their task loss (``loss``): version 1 had only the
      sinusoid's regression, on the ``mlp`` backbone and nothing else, so ``mse`` there and
      ``cross_entropy`` otherwise;
    - their model is a backbone ``body`` with a ``head``: Conv-4's parameters were under
      ``features`` (Meta-SGD's rates are keyed by the parameter names).
    """
    state = dict(state)
    values = {k: v for k, v in state["learner_config"].items() if k not in ("vmap", "workers")}
    if state["algorithm"] in _GRADIENT_LEARNERS:
        values.setdefault("loss", "mse" if values.get("backbone") == "mlp" else "cross_entropy")
        renames = (("model.features.", "model.body."), ("rates.features__", "rates.body__"))
        state["model"] = {_renamed(k, renames): v for k, v in state["model"].items()}
    state["learner_config"] = values
    config = dict(state["config"])
    learner = dict(config.get("learner") or {})
    for option in ("vmap", "workers"):  # given as --set before version 2
        if option in learner:
            config[option] = learner.pop(option)
    state["config"] = {**config, "learner": learner} if config else config
    state["version"] = 2
    return state


def _renamed(key: str, renames: tuple[tuple[str, str], ...]) -> str:
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` to ``path`` atomically: a killed writer never leaves a torn file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, "version": VERSION, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a metalab checkpoint; a run folder means its ``best.pt``.

    Raises:
        CheckpointError: missing, truncated or corrupt file, or a file not written by metalab.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; give a run folder or a .pt file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, OSError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a PyTorch file ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}). Use the run's other checkpoint "
            "(best.pt or last.pt) or retrain"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a PyTorch file but not a metalab checkpoint (no format: {FORMAT!r}); "
            "metalab reads the best.pt / last.pt files that `metalab train` writes"
        )
    if state.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path} was written by a newer metalab (checkpoint version {state['version']} > "
            f"{VERSION}); upgrade metalab"
        )
    missing = [key for key in REQUIRED if key not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it is incomplete, retrain")
    return upgrade(state)


def load_learner(path: str | Path, map_location: str | torch.device = "cpu", overrides: dict[str, str] | None = None):
    """The learner a checkpoint holds (in eval mode), its preprocessing, and the checkpoint.

    ``overrides`` (name -> text, read by the field's declared type) change hyperparameters of
    how the learner adapts at test time (e.g. ``eval_inner_steps``); one that changes the
    parameters' shapes fails to load with a named error.

    Returns:
        ``(learner, preprocess, state)``.
    """
    from metalab.algorithms import ALGORITHMS, build_learner
    from metalab.checks import convert
    from metalab.data.preprocess import Preprocess

    state = load_checkpoint(path, map_location)
    if state["algorithm"] not in ALGORITHMS:
        raise CheckpointError(
            f"checkpoint {path} holds a {state['algorithm']!r} learner, which this metalab does not "
            f"know (known: {', '.join(sorted(ALGORITHMS))}); upgrade metalab"
        )
    config_class = ALGORITHMS[state["algorithm"]].Config
    changed = {name: convert(config_class, name, text) for name, text in (overrides or {}).items()}
    learner = build_learner(state["algorithm"], {**state["learner_config"], **changed})
    try:
        learner.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} does not fit its {state['algorithm']} learner: {error}") from None
    return learner.to(map_location).eval(), Preprocess.from_dict(state["preprocess"]), state
