"""A crafted pickle checkpoint does not run code when metalab loads it (``weights_only``)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from metalab.errors import CheckpointError
from metalab.training.checkpoint import load_checkpoint


class _Exploit:
    """Unpickling this runs ``Path(marker).write_text(...)``: what a hostile file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


@pytest.mark.parametrize("writer", ["torch.save", "plain pickle"])
def test_a_crafted_pickle_checkpoint_is_refused_without_running_its_code(tmp_path, writer):
    marker = tmp_path / "marker.txt"
    path = tmp_path / "best.pt"
    state = {"format": "metalab-checkpoint", "model": {}, "payload": _Exploit(marker)}
    if writer == "torch.save":
        torch.save(state, path)
    else:
        path.write_bytes(pickle.dumps(state, protocol=2))
    with pytest.raises(CheckpointError, match="corrupt or not a PyTorch file"):
        load_checkpoint(path)
    assert not marker.exists()
    # the same file read as a plain pickle does run the code: the test's exploit is real
    if writer == "plain pickle":
        pickle.loads(path.read_bytes())
        assert marker.read_text() == "code ran"


def test_predict_with_a_crafted_checkpoint_is_a_clean_cli_error(tmp_path, capsys):
    from metalab.cli import main

    marker = tmp_path / "marker.txt"
    torch.save({"payload": _Exploit(marker)}, tmp_path / "best.pt")
    (tmp_path / "support" / "a").mkdir(parents=True)
    (tmp_path / "query").mkdir()
    assert main(["predict", "--checkpoint", str(tmp_path), "--support", str(tmp_path / "support"),
                 "--query", str(tmp_path / "query")]) == 2
    assert "metalab: error:" in capsys.readouterr().err
    assert not marker.exists()
