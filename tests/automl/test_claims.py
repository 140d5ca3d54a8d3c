"""Claims on a shared metabase: a study whose worker died is taken over once, a live one never."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import optuna

from metalab.automl.claims import HEARTBEAT, OWNER, _take_over, claim_study, is_stale, owner_token
from metalab.automl.metabase import open_storage


def _dead_owner() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return f"{socket.gethostname()}:{done.stdout.strip()}:12345:deadbeef"


def test_staleness_by_pid_on_this_host_and_by_heartbeat_elsewhere():
    assert not is_stale({OWNER: owner_token()}, stale_after=1)  # this process: alive
    assert is_stale({OWNER: _dead_owner()}, stale_after=1e9)
    assert not is_stale({OWNER: _dead_owner(), "complete": True}, stale_after=1)
    now = time.time()
    elsewhere = {OWNER: "other-host:1:1:ab", HEARTBEAT: now - 100}
    assert is_stale(elsewhere, stale_after=50, now=now)
    assert not is_stale(elsewhere, stale_after=500, now=now)
    assert not is_stale({}, stale_after=1)  # no owner recorded: left alone


def test_a_stale_study_is_taken_over_once_and_its_trials_deleted(tmp_path):
    storage = open_storage(tmp_path / "base.db")
    logs: list[str] = []
    old = optuna.create_study(study_name="metalab:x", storage=storage)
    dead = _dead_owner()
    old.set_user_attr(OWNER, dead)
    old.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
    old_id = storage.get_study_id_from_name("metalab:x")
    sampler = optuna.samplers.RandomSampler(seed=0)
    new = claim_study(storage, "metalab:x", sampler, stale_after=60, log=logs.append)
    assert new is not None and "died mid-search" in logs[-1]
    assert new.trials == [] and new.user_attrs[OWNER] != dead
    # a second worker meets a live owner: it skips; a late take-over of the old read fails
    assert claim_study(storage, "metalab:x", sampler, stale_after=60, log=logs.append) is None
    assert "another worker" in logs[-1]
    assert not _take_over(storage, old_id, "metalab:x", dead)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    assert names == ["metalab:x"]
