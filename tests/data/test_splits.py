import pytest

from metalab.data import splits
from metalab.errors import DataError

PINNED_VINYALS_TEST_START = [2, 3, 4, 9, 17]  # global character rows (character id - 1)
PINNED_LAKE_VAL_START = [295, 296, 297]  # Anglo-Saxon Futhorc is a validation alphabet


@pytest.mark.parametrize("split", splits.SPLITS)
def test_no_character_appears_in_two_parts(split):
    parts = {part: {row for row, _ in splits.classes(split, part)} for part in splits.PARTS}
    assert not parts["train"] & parts["val"]
    assert not parts["train"] & parts["test"]
    assert not parts["val"] & parts["test"]


def test_vinyals_split_sizes_and_rotations():
    sizes = {part: len(splits.classes("vinyals", part)) for part in splits.PARTS}
    assert sizes == {"train": 4400, "val": 400, "test": 1692}  # (1100, 100, 423) characters x 4
    assert {turns for _, turns in splits.classes("vinyals", "test")} == {0, 1, 2, 3}


def test_lake_split_tests_on_the_evaluation_alphabets():
    test_rows = {row for row, _ in splits.classes("lake", "test")}
    assert test_rows == set(range(964, 1623))
    train_val = {row for part in ("train", "val") for row, _ in splits.classes("lake", part)}
    assert train_val == set(range(964))


def test_split_is_fixed():
    # Every published figure depends on these exact characters: this pins them.
    test_rows = sorted({row for row, _ in splits.classes("vinyals", "test")})
    assert test_rows[:5] == PINNED_VINYALS_TEST_START
    assert sorted({row for row, _ in splits.classes("lake", "val")})[:3] == PINNED_LAKE_VAL_START
    assert len(set(splits.character_names())) == 1623


def test_unknown_split_is_an_error():
    with pytest.raises(DataError, match="unknown Omniglot split 'x'"):
        splits.classes("x", "train")


@pytest.mark.parametrize("split", splits.SPLITS)
def test_train_plus_val_is_the_training_and_validation_classes_together(split):
    together = splits.classes(split, "train+val")
    assert set(together) == set(splits.classes(split, "train")) | set(splits.classes(split, "val"))
    assert not {row for row, _ in together} & {row for row, _ in splits.classes(split, "test")}
    if split == "vinyals":
        assert len(together) == 4800  # the papers' 1200 meta-training characters x 4 turns
