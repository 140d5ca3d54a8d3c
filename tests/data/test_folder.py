import numpy as np
import pytest
from PIL import Image

from metalab.data.folder import image_folder
from metalab.data.limits import ImageLimits
from metalab.data.load import load_dataset
from metalab.data.preprocess import read_image
from metalab.errors import ConfigError, DataError


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


# Size limits: each is checked before the memory it guards is taken.


def _no_decoding(monkeypatch):
    """Record every image decode (PIL decodes pixels in ``ImageFile.load``)."""
    from PIL import ImageFile

    decoded = []
    real = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self) or real(self))
    return decoded


def test_an_image_over_the_pixel_limit_is_refused_from_its_header_naming_file_size_limit_and_fix(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "d", size=(40, 30))
    Image.fromarray(np.zeros((90, 80), np.uint8)).save(root / "class1" / "big.png")
    decoded = _no_decoding(monkeypatch)
    with pytest.raises(DataError) as error:
        read_image(root / "class1" / "big.png", limits=ImageLimits(pixels=7199))
    message = str(error.value)
    assert f"image {root / 'class1' / 'big.png'} is 80 x 90 = 7,200 pixels, more than the 7,199" in message
    assert "METALAB_MAX_IMAGE_PIXELS=7200" in message
    assert decoded == []  # refused from the header, before the pixels were decoded
    assert read_image(root / "class1" / "big.png", limits=ImageLimits(pixels=7200)).shape == (90, 80)


def test_a_folder_with_one_large_image_is_refused_through_the_environment_variable(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "d", size=(40, 30))
    Image.fromarray(np.zeros((90, 80), np.uint8)).save(root / "class2" / "big.png")
    monkeypatch.setenv("METALAB_MAX_IMAGE_PIXELS", "2000")
    with pytest.raises(DataError, match=r"class2/big.png is 80 x 90 = 7,200 pixels.*METALAB_MAX_IMAGE_PIXELS=7200"):
        load_dataset(str(root), "train")
    monkeypatch.setenv("METALAB_MAX_IMAGE_PIXELS", "7200")
    assert load_dataset(str(root), "train").sizes.tolist() == [4, 4, 5]


def test_an_image_file_over_the_byte_limit_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "d")
    path = root / "class0" / "0.png"
    size = path.stat().st_size
    opened = []
    import PIL.Image

    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: opened.append(a) or pytest.fail("opened"))
    with pytest.raises(DataError, match=rf"class0/0.png is .*\({size:,} bytes\), more than the .*"
                                        rf"METALAB_MAX_IMAGE_BYTES={size}"):
        read_image(path, limits=ImageLimits(file_bytes=size - 1))
    assert opened == []


def test_a_folder_whose_loaded_size_is_over_the_limit_is_refused_before_any_image_is_read(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "d")  # 12 images -> 12 x 1 x 28 x 28 x 4 = 37,632 bytes
    import PIL.Image

    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: pytest.fail("an image was read"))
    with pytest.raises(DataError) as error:
        image_folder(root, limits=ImageLimits(folder_bytes=37_631))
    message = str(error.value)
    assert f"image folder {root} holds 12 images; loaded as 12 x 1 x 28 x 28 float32 they take 36.8 KiB" in message
    assert "METALAB_MAX_FOLDER_BYTES=37632" in message and "smaller preprocess size" in message


def test_a_folder_at_the_loaded_size_limit_loads(tmp_path):
    dataset = image_folder(make_folder(tmp_path / "d"), limits=ImageLimits(folder_bytes=37_632))
    assert dataset.images.shape == (12, 1, 28, 28)


def test_pils_decompression_bomb_error_is_a_data_error_and_its_warning_does_not_escape(tmp_path, monkeypatch):
    import warnings

    import PIL.Image

    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((12, 10), np.uint8)).save(path)  # 120 pixels
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 100)  # PIL warns above 100, raises above 200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(path).shape == (12, 10)  # within metalab's limit: PIL's warning is not shown
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 50)
    with pytest.raises(DataError, match=r"image .*a.png is too large for PIL to decode safely \(Image size \(120 pixels\)"):
        read_image(path)


@pytest.mark.parametrize("value", ["many", "0", "-5", "1.5"])
def test_a_bad_limit_in_the_environment_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("METALAB_MAX_FOLDER_BYTES", value)
    with pytest.raises(ConfigError, match=rf"environment variable METALAB_MAX_FOLDER_BYTES: folder_bytes must be an "
                                          rf"integer >= 1, got '?{value}'?"):
        ImageLimits.from_env()
    monkeypatch.setenv("METALAB_MAX_FOLDER_BYTES", "8_000_000_000")
    assert ImageLimits.from_env().folder_bytes == 8_000_000_000
