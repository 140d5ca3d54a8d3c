"""Child processes that die with their parent and never fork a process that ran OpenMP.

Per-fit children (:mod:`metalab.automl.evaluate`) are forked by a fork server
(``multiprocessing``'s ``forkserver`` start method): a clean process that has imported
scikit-learn and pandas but never run a model, so no child is forked from a process whose
OpenMP or BLAS thread pool is running (a fork after OpenMP has started can hang in the
child). Forking from the server keeps each evaluation's start cheap.

On Linux every link of the chain asks the kernel for a parent-death signal
(``prctl(PR_SET_PDEATHSIG, SIGKILL)``): the fork server dies with the process that started
it, each fit child with the fork server, and each metabase worker with the command that
spawned it. A ``kill -9`` of the top process thus leaves no process behind, even one stuck in
C code. Elsewhere the signal is not available and children end when their pipe closes.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys

__all__ = ["die_with_parent", "fit_context", "parent_death_signal"]

_PR_SET_PDEATHSIG = 1
# The modules the fork server imports before forking anything: the server itself then asks
# to die with its parent (``_forkserver_init``), and the fit code is already imported.
_PRELOAD = ["metalab.automl._forkserver_init", "metalab.automl.evaluate"]


def parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent thread exits.

    Returns True where it took effect (Linux), False elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int | None) -> None:
    """Set the parent-death signal, then exit at once if ``parent_pid`` is no longer the
    parent (None: no check).

    The check closes the race of a parent that died between the fork and the ``prctl``
    call: the child has then been re-parented and would never receive the signal.
    """
    if parent_death_signal() and parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _forget_the_parents_fork_server() -> None:
    """In a process forked from one that started the fork server: forget that server. It is
    not this process's child, so ``multiprocessing`` could not wait on it (``ChildProcessError``
    at the next fit), and this copy of its keep-alive pipe would keep it alive after its owner."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    if getattr(server, "_forkserver_pid", None) is None:
        return
    try:
        os.close(server._forkserver_alive_fd)
    except (OSError, TypeError):
        pass
    server._forkserver_pid = server._forkserver_address = server._forkserver_alive_fd = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_parents_fork_server)


def fit_context() -> mp.context.BaseContext | None:
    """The start method of the per-fit children: a fork server where the platform has one
    (Linux, macOS), else None (the fits then run in the calling process)."""
    if "forkserver" not in mp.get_all_start_methods():
        return None
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context
