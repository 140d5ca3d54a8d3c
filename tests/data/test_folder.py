import numpy as np
import pytest
from PIL import Image

from metalab.data.folder import image_folder
from metalab.data.load import load_dataset
from metalab.errors import DataError


def make_folder(root, classes=3, per_class=4, size=(40, 30)):
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full(size, 255, np.uint8)
            pixels[c * 5 : c * 5 + 5, :] = 0
            Image.fromarray(pixels).save(root / f"class{c}" / f"{i}.png")
    return root


def test_folder_classes_and_images(tmp_path):
    dataset = image_folder(make_folder(tmp_path / "d"))
    assert dataset.class_names == ("class0", "class1", "class2")
    assert dataset.images.shape == (12, 1, 28, 28) and dataset.sizes.tolist() == [4, 4, 4]


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(DataError, match="does not exist.*one sub-folder per class"):
        image_folder(tmp_path / "missing")


def test_empty_class_folder_is_reported(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "empty").mkdir()
    with pytest.raises(DataError, match="class folder .*empty holds no images"):
        image_folder(root)


def test_unreadable_image_in_a_class_is_named(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "class1" / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="cannot read image .*class1/bad.png"):
        image_folder(root)


def test_folder_with_split_parts(tmp_path):
    make_folder(tmp_path / "d" / "train", classes=3)
    make_folder(tmp_path / "d" / "test", classes=2)
    assert load_dataset(str(tmp_path / "d"), "test").num_classes == 2
    assert load_dataset(f"folder:{tmp_path / 'd'}", "train").num_classes == 3
