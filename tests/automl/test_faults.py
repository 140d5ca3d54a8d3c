"""Faults of real processes: ``kill -9`` of a fit or of a metabase build leaves no process behind
and a rerun completes the base; a hanging fit child is killed at its time limit; fit children
are not forked from a process that has run OpenMP (they start from the fork server, never with
plain fork)."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest

from metalab.automl import DEFAULT_CONFIG, load_keel
from metalab.automl.evaluate import make_folds
from metalab.automl.metabase import STUDY_PREFIX, load_metabase
from metalab.automl.search import run_search

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="parent-death signals and /proc are Linux's")

HARNESS = Path(__file__).with_name("kill_harness.py")
TINY = ["zoo-3", "iris", "tae", "hayes-roth"]
TRIALS = 6  # per dataset: enough that the build is still running when it is killed


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _kill_during(depth: int, delay: float, command: list[str]) -> dict:
    """Run ``command`` under the kill harness; its report (see kill_harness.py)."""
    done = subprocess.run([sys.executable, str(HARNESS), str(depth), str(delay), "--", *command],
                          capture_output=True, text=True, timeout=300, env=_env())
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in report, report["error"] + done.stderr[-2000:]
    return report


def _metalab(*argv: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from metalab.cli import main; sys.exit(main(sys.argv[1:]))",
            *argv]


def test_kill_9_during_autoclassifier_fit_leaves_no_child_process(keel_root):
    script = (
        "from metalab.automl import AutoClassifier, load_keel\n"
        f"d = load_keel('vehicle', {str(keel_root)!r})\n"
        "AutoClassifier(time_budget=120, metabase=None).fit(d.X, d.y)\n"
    )
    # depth 2: the fit fork server and a fit child it forked are running
    report = _kill_during(2, 0.5, [sys.executable, "-c", script])
    assert len(report["before"]) >= 2, report
    assert report["left"] == {}, report


def test_kill_9_during_build_metabase_then_a_rerun_completes_the_base_exactly(keel_root, tmp_path):
    storage = tmp_path / "base.db"
    command = _metalab("automl", "build-metabase", "--storage", str(storage), "--keel-root",
                       str(keel_root), "--datasets", *TINY, "--budget", "60", "--trials", str(TRIALS),
                       "--cv", "2", "--workers", "2", "--families", "logreg", "knn", "random_forest")
    # depth 3: command -> worker -> fork server -> fit child; kill while trials are running
    report = _kill_during(3, 0.3, command)  # soon after trials start: a quiet machine builds 4 tiny bases fast
    workers = [cmd for cmd in report["before"].values() if "spawn_main" in cmd]
    assert len(workers) >= 2, report
    assert report["left"] == {}, report  # workers, fork servers and fit children all died
    url = f"sqlite:///{storage}"
    cut = optuna.get_all_study_summaries(url)
    complete = {s.study_name for s in cut if s.user_attrs.get("complete")}
    assert len(complete) < len(TINY), "the kill came too late to interrupt the build"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600, env=_env())
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summaries = optuna.get_all_study_summaries(url)
    assert sorted(s.study_name for s in summaries) == sorted(STUDY_PREFIX + n for n in TINY)
    for summary in summaries:
        assert summary.user_attrs.get("complete"), summary.study_name
        trials = optuna.load_study(study_name=summary.study_name, storage=url).trials
        assert [t.number for t in trials] == list(range(TRIALS)), summary.study_name  # none lost or extra
        assert all(t.state.is_finished() for t in trials)  # none left RUNNING
        assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == TRIALS  # no duplicate
    assert sorted(r.name for r in load_metabase(storage).records) == sorted(TINY)
    if {s.study_name for s in cut} - complete:  # a study cut short was redone, as logged
        assert "died mid-search" in rerun.stdout, rerun.stdout


def _fit_children() -> list[int]:
    """Processes forked by this process's fit fork server (grandchildren of this process)."""
    tree: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return [g for c in tree.get(os.getpid(), []) for g in tree.get(c, [])]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_hanging_fit_child_is_killed_at_its_time_limit_and_recorded_as_timeout(keel_root,
                                                                                  monkeypatch):
    import metalab.automl.evaluate as evaluate

    monkeypatch.setattr(evaluate, "_STARTUP_LIMIT", 2.0)  # if it hangs before fitting
    data = load_keel("iris", keel_root)
    y = (data.y == data.y[0]).astype(int)
    folds = make_folds(y, 2, 0)
    run_search(data.X, y, folds, n_classes=2, time_budget=60, n_trials=1, enqueue=[DEFAULT_CONFIG])
    stopped: list[int] = []

    def hang_the_child() -> None:  # SIGSTOP: the child hangs, as one stuck in C code would
        deadline = time.monotonic() + 30
        while not stopped and time.monotonic() < deadline:
            for pid in _fit_children():
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            time.sleep(0.01)

    watcher = threading.Thread(target=hang_the_child)
    watcher.start()
    start = time.monotonic()
    result = run_search(data.X, y, folds, n_classes=2, time_budget=60, n_trials=1,
                        per_fit_time_limit=1.0, enqueue=[DEFAULT_CONFIG])
    seconds = time.monotonic() - start
    watcher.join()
    assert stopped, "no fit child was seen"
    (trial,) = result.study.trials
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["status"] == "timeout"
    assert re.search(r"longer than 1 s|did not start within 2 s", trial.user_attrs["error"])
    assert seconds < 15
    time.sleep(0.5)
    assert not any(_alive(pid) for pid in stopped)


def test_fit_children_start_cleanly_after_openmp_has_run_in_the_parent():
    script = (
        "import numpy as np, torch\n"
        "from sklearn.ensemble import HistGradientBoostingClassifier\n"
        "from metalab.automl.evaluate import evaluate_config, make_folds\n"
        "from metalab.automl._processes import fit_context\n"
        "from metalab.automl._tabular import to_frame\n"
        "torch.set_num_threads(2); (torch.randn(400, 400) @ torch.randn(400, 400)).sum()\n"
        "rng = np.random.default_rng(0); X = rng.normal(size=(300, 4)); y = (X[:, 0] > 0).astype(int)\n"
        "HistGradientBoostingClassifier(max_iter=20).fit(X, y)  # OpenMP threads now exist\n"
        "config = {'classifier': 'hist_gb', 'num_imputer': 'mean', 'cat_encoder': 'ordinal',\n"
        "          'hist_gb:learning_rate': 0.1, 'hist_gb:max_iter': 50, 'hist_gb:max_leaf_nodes': 15,\n"
        "          'hist_gb:min_samples_leaf': 20, 'hist_gb:l2_regularization': 0.0,\n"
        "          'hist_gb:class_weight': 'none'}\n"
        "r = evaluate_config(config, to_frame(X), y, make_folds(y, 2, 0), n_classes=2, time_limit=60)\n"
        "print(fit_context().get_start_method(), r.status, r.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[:2] == ["forkserver", "ok"], done.stdout + done.stderr[-2000:]


def test_fit_children_are_not_started_with_plain_fork(monkeypatch):
    """The per-fit children come from the fork server (or spawn): this process, which may have
    run OpenMP, never forks. A regression to ``fork`` (the default start method on Linux before
    Python 3.14, or ``os.fork``) fails here even where the fork happens not to hang."""
    import multiprocessing.process

    import numpy as np

    from metalab.automl._tabular import to_frame
    from metalab.automl.evaluate import evaluate_config

    methods, forks = [], []
    real_start, real_fork = multiprocessing.process.BaseProcess.start, os.fork

    def start(process):
        real_start(process)
        methods.append(process._popen.method)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    monkeypatch.setattr(os, "fork", lambda: forks.append(os.getpid()) or real_fork())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    config = {**DEFAULT_CONFIG, "random_forest:n_estimators": 10}
    result = evaluate_config(config, to_frame(X), y, make_folds(y, 2, 0), n_classes=2, time_limit=60)
    assert result.status == "ok", result.message
    assert methods and set(methods) <= {"forkserver", "spawn"}, methods
    assert forks == []


def test_a_process_forked_after_a_fit_starts_its_own_fork_server_and_fits(mixed_frame):
    """A fit in a process forked from one whose fork server is running (a benchmark's per-run
    child) used to fail with ChildProcessError: the inherited server is not its child."""
    import multiprocessing

    from metalab.automl import AutoClassifier

    X, y = mixed_frame
    AutoClassifier(time_budget=20, metabase=None, n_trials=1, cv=2).fit(X, y)  # starts the server here
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)

    def child() -> None:
        try:
            model = AutoClassifier(time_budget=20, metabase=None, n_trials=1, cv=2).fit(X, y)
            sender.send(("ok", [t["status"] for t in model.trials_]))
        except Exception as error:  # reported to the parent
            sender.send(("error", repr(error)))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    assert receiver.poll(120)
    outcome = receiver.recv()
    process.join()
    assert outcome == ("ok", ["ok"]), outcome
