"""Shared fixtures: the real Omniglot in ../shared/data (or $METALAB_DATA), small real subsets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from metalab.data.dataset import FewShotDataset

# Property tests draw the same examples on every run, so the suite passes or fails the same way
# each time; HYPOTHESIS_PROFILE=explore draws new ones (to hunt for bad inputs, not for CI).
settings.register_profile("reproducible", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    root = Path(os.environ.get("METALAB_DATA") or SHARED_DATA)
    if not (root / "omniglot" / "images_background.npz").is_file():
        pytest.fail(f"Omniglot arrays not found under {root}; set METALAB_DATA to the shared data folder")
    return root


@pytest.fixture(scope="session")
def omniglot_train(data_dir) -> FewShotDataset:
    from metalab.data.load import omniglot

    return omniglot("vinyals", "train", data_dir)


@pytest.fixture(scope="session")
def omniglot_val(data_dir) -> FewShotDataset:
    from metalab.data.load import omniglot

    return omniglot("vinyals", "val", data_dir)


@pytest.fixture(scope="session")
def first_classes():
    """``first_classes(dataset, n)``: the first n classes of a dataset (real images, fewer classes)."""
    return subset


def subset(dataset: FewShotDataset, classes: int) -> FewShotDataset:
    """The first ``classes`` classes of a dataset (real images, fewer classes)."""
    return FewShotDataset(
        images=dataset.images, offsets=dataset.offsets[:classes], sizes=dataset.sizes[:classes],
        rotations=dataset.rotations[:classes], class_names=dataset.class_names[:classes],
        name=f"{dataset.name}[:{classes}]",
    )


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture
def kill_during():
    """``kill_during(learner, update)`` makes ``learner`` raise KeyboardInterrupt (as a kill would stop
    the process) during its ``update``-th meta-update, for tests that a resumed run equals an
    uninterrupted one."""

    def wrap(learner, update: int):
        meta_losses, calls = learner.meta_losses, [0]

        def dying(batch):
            calls[0] += 1
            if calls[0] == update:
                raise KeyboardInterrupt
            yield from meta_losses(batch)

        learner.meta_losses = dying
        return learner

    return wrap


@pytest.fixture
def one_thread():
    """One PyTorch thread for the test (many tiny ops: extra threads only add contention)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
