"""Two processes under torchrun (Gloo on the CPU) train one model."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch


def _free_port() -> int:
    """A port nothing listens on now (a fixed one can be taken, or still closing, on a busy machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_ranks_share_one_model_and_one_run_folder(tmp_path, data_dir):
    worker = Path(__file__).with_name("distributed_worker.py")
    env = {**os.environ, "METALAB_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
         str(worker), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert state["step"] == 6 and len(state["streams"]) == 2
    assert state["streams"][0]["generator"].tolist() != state["streams"][1]["generator"].tolist()
    # gradients were averaged every step, so both ranks hold the checkpointed model
    for rank in (0, 1):
        saved = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert saved["steps"] == 6
        assert all(torch.allclose(saved["model"][k].float(), state["model"][k].float(), atol=1e-6) for k in saved["model"])
