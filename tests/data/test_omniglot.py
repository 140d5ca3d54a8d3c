import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from metalab.data import omniglot as og
from metalab.data.load import omniglot
from metalab.errors import DataError


def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("METALAB_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("METALAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"(?s)Omniglot not found.*nowhere.*metalab data download omniglot"):
        og.find_omniglot()


def test_loaded_omniglot_is_ink_one_28x28(omniglot_train):
    assert omniglot_train.images.shape == (32460, 1, 28, 28)
    x = omniglot_train.images[:100]
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert float(x.mean()) < 0.25  # mostly background (0), strokes are ink (1)


def write_official_zip(path, name, images):
    """The official layout: ALPHABET/characterNN/IIII_DD.png, dark ink on white."""
    info = og.metadata()["sets"][name]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for alphabet, first_row, count in info["alphabets"]:
            for k in range(count):
                row = first_row + k
                for drawer in range(og.DRAWERS):
                    entry = f"images_{name}/{alphabet}/character{k + 1:02d}/{info['first_character_id'] + row:04d}_{drawer + 1:02d}.png"
                    with archive.open(entry, "w") as handle:
                        Image.fromarray(images[row, drawer]).save(handle, format="PNG")


@pytest.fixture(scope="module")
def evaluation_zip(tmp_path_factory, data_dir):
    path = tmp_path_factory.mktemp("zips") / "images_evaluation.zip"
    write_official_zip(path, "evaluation", og.load_set("evaluation", data_dir))
    return path


def test_download_decodes_and_verifies_the_official_evaluation_zip(evaluation_zip, tmp_path, data_dir):
    folder = og.download_omniglot(tmp_path / "cache", urls={"evaluation": evaluation_zip.as_uri()}, sets=("evaluation",))
    assert np.array_equal(og.load_set("evaluation", folder), og.load_set("evaluation", data_dir))


@pytest.mark.slow
def test_download_decodes_and_verifies_both_official_zips(tmp_path, data_dir):
    urls = {}
    for name in og.SETS:
        write_official_zip(tmp_path / f"images_{name}.zip", name, og.load_set(name, data_dir))
        urls[name] = (tmp_path / f"images_{name}.zip").as_uri()
    folder = og.download_omniglot(tmp_path / "cache", urls=urls)
    for name in og.SETS:
        assert np.array_equal(og.load_set(name, folder), og.load_set(name, data_dir))


def test_download_rejects_pixels_that_differ_from_the_official_digest(evaluation_zip, tmp_path, data_dir):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(evaluation_zip) as source, zipfile.ZipFile(bad, "w") as target:
        for i, entry in enumerate(source.namelist()):
            payload = source.read(entry)
            if i == 0:  # flip one pixel of the first drawing
                with Image.open(io.BytesIO(payload)) as image:
                    pixels = np.asarray(image.convert("1")).copy()
                pixels[50, 50] ^= True
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, format="PNG")
                payload = buffer.getvalue()
            target.writestr(entry, payload)
    with pytest.raises(DataError, match="evaluation set .* decodes to pixels .* not the official"):
        og.download_omniglot(tmp_path / "out", urls={"evaluation": bad.as_uri()}, sets=("evaluation",))
    assert not (tmp_path / "out" / "images_evaluation.npz").exists()


def test_incomplete_zip_is_reported(evaluation_zip, tmp_path):
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(evaluation_zip) as source, zipfile.ZipFile(partial, "w") as target:
        for entry in source.namelist()[:100]:
            target.writestr(entry, source.read(entry))
    with pytest.raises(DataError, match="lacks 13080 of 13180 images"):
        og.decode_zip(partial.read_bytes(), "evaluation")


def test_truncated_zip_is_reported(tmp_path):
    (tmp_path / "cut.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a zip file"):
        og.decode_zip((tmp_path / "cut.zip").read_bytes(), "evaluation")


def test_corrupt_npz_is_reported(tmp_path):
    folder = tmp_path / "omniglot"
    folder.mkdir()
    for name in og.SETS:
        (folder / f"images_{name}.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot read .*images_background.npz"):
        omniglot("vinyals", "train", tmp_path)
