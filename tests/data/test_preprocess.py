import numpy as np
import pytest
import torch
from PIL import Image

from metalab.data.preprocess import Preprocess, area_resize, read_image
from metalab.errors import ConfigError, DataError


def test_area_resize_equals_mean_over_covered_area():
    # Exact reference: upsample by the output size (nearest), then average blocks of the input size.
    image = torch.rand(15, 15, dtype=torch.float64)
    fine = image.repeat_interleave(4, 0).repeat_interleave(4, 1)  # 60 x 60
    reference = fine.reshape(4, 15, 4, 15).mean(dim=(1, 3))
    ours = area_resize(image.float()[None], 4)[0]
    assert torch.allclose(ours.double(), reference, atol=1e-6)


def test_area_resize_keeps_constant_images_constant_and_commutes_with_rotation():
    assert torch.allclose(area_resize(torch.full((2, 105, 105), 0.3), 28), torch.tensor(0.3))
    x = torch.rand(105, 105)
    assert torch.allclose(area_resize(torch.rot90(x, 1)[None], 28)[0], torch.rot90(area_resize(x[None], 28)[0], 1), atol=1e-6)


def test_dark_ink_on_white_png_becomes_ink_one(tmp_path):
    drawing = np.ones((105, 105), dtype=bool)
    drawing[40:60, 10:95] = False  # a dark bar
    Image.fromarray(drawing).save(tmp_path / "a.png")
    x = Preprocess().image_file(tmp_path / "a.png")
    assert x.shape == (1, 28, 28)
    assert x.min() == 0 and x.max() == pytest.approx(1.0)
    assert x[0, 14, 14] == pytest.approx(1.0) and x[0, 2, 2] == 0


def test_rgb_image_to_three_channels_and_grey(tmp_path):
    Image.fromarray(np.full((30, 40, 3), 255, dtype=np.uint8)).save(tmp_path / "c.jpg")
    assert Preprocess(size=8, channels=3, invert=False).image_file(tmp_path / "c.jpg").shape == (3, 8, 8)
    assert Preprocess(size=8).image_file(tmp_path / "c.jpg").abs().max() < 0.02


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="cannot read image .*broken.png"):
        read_image(tmp_path / "broken.png")


def test_bad_preprocess_values_are_rejected():
    with pytest.raises(ConfigError, match=r"preprocess.channels must be one of \[1, 3\], got 2"):
        Preprocess(channels=2)
