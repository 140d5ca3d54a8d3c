"""Who builds which dataset of a shared metabase, and taking over the work of a dead worker.

A worker claims a dataset by creating its study (a unique name: one creator wins) and writes
its *owner*, ``host:pid:start:nonce``, into the study. While it searches it refreshes the
study's ``heartbeat`` after each trial. A study that is not ``complete`` and whose owner is
dead (on this host: no process with that pid and start time; on another host: no heartbeat
for ``stale_after`` seconds) is *stale*: its search was cut short, e.g. by ``kill -9``. The
next worker that meets it takes it over in one atomic statement (a conditional rename that
only one worker can win), deletes it and its trials, and redoes the dataset, so the finished
base holds each dataset once, with a whole search and no trial left running.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable

import optuna

__all__ = ["claim_study", "heartbeat", "is_stale", "owner_token"]

OWNER = "owner"
HEARTBEAT = "heartbeat"


def _start_time(pid: int) -> str:
    """The kernel's start time of process ``pid`` (Linux), "" elsewhere or if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_token() -> str:
    """``host:pid:start:nonce`` naming this process uniquely (pids are reused, the start
    time tells two processes with one pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}:{uuid.uuid4().hex[:8]}"


def _alive(token: str) -> bool | None:
    """Whether the owner process is alive; None if it runs on another host."""
    host, pid, start, _ = (token.rsplit(":", 3) + ["", "", ""])[:4]
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    return not start or _start_time(int(pid)) == start


def is_stale(attrs: dict, stale_after: float, now: float | None = None) -> bool:
    """Whether a study with these user attributes was abandoned by a dead worker."""
    if attrs.get("complete"):
        return False
    token = attrs.get(OWNER)
    if not isinstance(token, str):  # made before owners were recorded, or mid-claim
        token = ""
    alive = _alive(token) if token else None
    if alive is not None:
        return not alive
    beat = attrs.get(HEARTBEAT)
    return isinstance(beat, (int, float)) and (now or time.time()) - beat > stale_after


def heartbeat(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
    """An Optuna callback: the owner is alive (read by :func:`is_stale` across hosts)."""
    study.set_user_attr(HEARTBEAT, time.time())


def _take_over(storage: optuna.storages.RDBStorage, study_id: int, name: str, token: str) -> bool:
    """Rename the stale study out of the way if it is still the one read (same id, name and
    owner); True for the one worker whose rename took effect."""
    from sqlalchemy import text

    statement = text(
        "UPDATE studies SET study_name = :new WHERE study_id = :id AND study_name = :old "
        "AND EXISTS (SELECT 1 FROM study_user_attributes WHERE study_id = :id "
        "AND key = :key AND value_json = :owner)"
    )
    with storage.engine.begin() as connection:
        result = connection.execute(statement, {
            "new": f"stale:{name}:{uuid.uuid4().hex}", "id": study_id, "old": name,
            "key": OWNER, "owner": json.dumps(token),
        })
    return result.rowcount == 1


def claim_study(
    storage: optuna.storages.RDBStorage,
    name: str,
    sampler: optuna.samplers.BaseSampler,
    *,
    stale_after: float,
    log: Callable[[str], None],
) -> optuna.Study | None:
    """Create and own the study ``name``, taking over a stale one; None if it is done or
    owned by a live worker."""
    for _ in range(2):
        try:
            study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                        sampler=sampler, load_if_exists=False)
        except optuna.exceptions.DuplicatedStudyError:
            try:
                study_id = storage.get_study_id_from_name(name)
            except KeyError:
                continue  # deleted meanwhile: try to create it again
            attrs = storage.get_study_user_attrs(study_id)
            if not is_stale(attrs, stale_after):
                if attrs.get("complete"):
                    log("already in the base, skipped")
                elif not isinstance(attrs.get(OWNER), str):
                    log(f"an incomplete study with no owner recorded: delete it (optuna "
                        f"delete-study --study-name '{name}') to redo it; skipped")
                else:
                    log("being built by another worker, skipped")
                return None
            if not _take_over(storage, study_id, name, attrs[OWNER]):
                log("taken over by another worker, skipped")
                return None
            storage.delete_study(study_id)
            log(f"its worker ({attrs[OWNER]}) died mid-search: deleted its partial study, redoing it")
            continue
        study.set_user_attr(OWNER, owner_token())
        study.set_user_attr(HEARTBEAT, time.time())
        return study
    return None
