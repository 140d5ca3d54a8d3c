"""Run a command, ``kill -9`` it mid-work, and report the processes it leaves behind.

Usage: ``python kill_harness.py DEPTH DELAY -- COMMAND...``: waits until COMMAND has a
descendant DEPTH levels down (1: a child, 2: a grandchild, ...), waits DELAY more seconds,
sends SIGKILL to COMMAND alone, then watches for 15 s. The harness is a child subreaper
(Linux), so every orphan of COMMAND is re-parented to it and cannot escape the count. Prints
one JSON line: the descendants seen before the kill and those still alive after the wait
(which it then kills, so a failing test leaves nothing running).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _descendants(pid: int) -> dict[int, int]:
    """pid -> depth below ``pid`` of every live descendant."""
    tree, found, frontier, depth = _children(), {}, [pid], 0
    while frontier:
        depth += 1
        frontier = [c for p in frontier for c in tree.get(p, [])]
        found.update((c, depth) for c in frontier)
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")[:160]
    except OSError:
        return "?"


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def main() -> None:
    depth, delay = int(sys.argv[1]), float(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    victim = subprocess.Popen(command)
    start = time.monotonic()
    while max(_descendants(victim.pid).values(), default=0) < depth:
        if victim.poll() is not None or time.monotonic() - start > 120:
            print(json.dumps({"error": f"no depth-{depth} descendant; exit {victim.returncode}"}))
            return
        time.sleep(0.05)
    time.sleep(delay)
    before = {pid: _cmdline(pid) for pid in _descendants(victim.pid)}
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    mine = os.getpid()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        _reap()
        if not _descendants(mine):
            break
        time.sleep(0.1)
    left = {pid: _cmdline(pid) for pid in _descendants(mine)}
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print(json.dumps({"before": before, "left": left,
                      "seconds_to_kill": round(time.monotonic() - start, 2)}))


if __name__ == "__main__":
    main()
