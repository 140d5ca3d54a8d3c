"""tune_allocator: freed activations stay in the process instead of going back to the OS
(and being page-faulted in again at the next step)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

# One MAML activation block (a Conv-4 layer's output for 75 queries, 15 MB), allocated and
# freed, read through glibc's mallinfo2: how much of it was a fresh mmap, how much the
# process still holds after the free.
_PROBE = """
import ctypes, json, sys, torch
from metalab import tune_allocator
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print(json.dumps(None)); sys.exit()
libc.mallinfo2.restype = Info
tuned = sys.argv[1] == "tuned" and tune_allocator()
block = torch.ones(75, 64, 28, 28)
mapped = libc.mallinfo2().hblkhd
del block
print(json.dumps({"tuned": tuned, "mapped_mb": mapped / 2**20, "held_mb": libc.mallinfo2().fordblks / 2**20}))
"""


def _probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    if result is None:
        pytest.skip("glibc older than 2.33 has no mallinfo2")
    return result


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc malloc only")
def test_tuned_allocator_keeps_freed_activation_blocks_in_the_process():
    default, tuned = _probe("default"), _probe("tuned")
    assert tuned["tuned"] is True
    # default: the 14.4 MB block is its own mmap and goes back to the OS when freed
    assert default["mapped_mb"] > 14 and default["held_mb"] < 14
    # tuned: it comes from the heap, and the process keeps it for the next step
    assert tuned["mapped_mb"] < default["mapped_mb"] - 14
    assert tuned["held_mb"] > 14


def test_tune_allocator_changes_nothing_off_glibc(monkeypatch):
    from metalab.training import allocator

    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("", ""))
    assert allocator.tune_allocator() is False
