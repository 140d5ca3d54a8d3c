"""Keep freed memory inside the process, so that MAML's large per-task activations are not
handed back to the OS and page-faulted in again at every step.

glibc's malloc serves a block of more than its mmap threshold (128 KiB, rising to at most
32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` when freed, and trims the free
top of a heap beyond 2x that threshold. A MAML step frees and reallocates tens of
15 MB activations per task, so it pays for page faults (the kernel zeroing pages) all the
time, and worker threads of one process also queue on the process's memory-map lock: two
worker threads ran 1.13x slower than two single-threaded processes on the same tasks
(results/speed/maml_meta_step/README.md). Raising the thresholds and padding heap growth removes both.
"""

from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
MIB = 1 << 20


def tune_allocator(mmap_threshold: int = 32 * MIB, top_pad: int = 64 * MIB, trim_threshold: int = 1024 * MIB) -> bool:
    """Set glibc malloc's ``M_MMAP_THRESHOLD``, ``M_TOP_PAD`` and ``M_TRIM_THRESHOLD`` for this
    process (as the ``MALLOC_*_`` environment variables of the same names would at start-up).

    The cost: memory freed by the process stays reserved by it (its peak resident size is
    what it keeps). The ``metalab`` command calls this for ``train`` and ``eval``; a library
    user calls it once at start. Returns False, changing nothing, where the C library is not
    glibc (macOS, Windows, musl).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, mmap_threshold), (_M_TOP_PAD, top_pad), (_M_TRIM_THRESHOLD, trim_threshold))
    return all(mallopt(option, min(value, 2**31 - 1)) == 1 for option, value in settings)
