"""Jobs at the same time: different store types overlap, same types take turns, states are visible."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

from strongroom.core.jobs import JobListener, JobState, run_simultaneously
from strongroom.core.mutex.records import write_record as write_holder

from .conftest import CLI, Rendezvous, dead_pid, fake_record, wait_until
from .test_sqlite_store import make_database
from .trees import make_tree


class Recorder(JobListener):
    def __init__(self) -> None:
        self.states: list[JobState] = []

    def job_state(self, job, state) -> None:
        self.states.append(state)


class HoldUntil(JobListener):
    """Keeps a job inside its store (holding the mutex) until ``release`` is set."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.entered = threading.Event()

    def job_state(self, job, state) -> None:
        if state == JobState.RUNNING and not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(20), "the other job never got its turn"


def test_jobs_on_different_store_types_hold_their_mutexes_at_the_same_time(engine, tmp_path: Path) -> None:
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": os.urandom(100_000)})))
    engine.add_store("app", "sqlite", str(make_database(tmp_path / "app.db")))
    folder_job, sqlite_job = engine.backup_job("docs"), engine.backup_job("app")
    rendezvous = Rendezvous(2)  # each stays inside its store until the other is inside its own
    folder_job.add_listener(rendezvous.listener())
    sqlite_job.add_listener(rendezvous.listener())
    assert run_simultaneously([folder_job, sqlite_job], timeout=60) == [JobState.SUCCEEDED] * 2
    (folder_took, folder_gave), (sqlite_took, sqlite_gave) = folder_job.store_intervals[0], sqlite_job.store_intervals[0]
    assert sqlite_took < folder_gave and folder_took < sqlite_gave  # they overlapped


def test_jobs_on_the_same_store_type_take_turns_and_show_waiting(engine, tmp_path: Path) -> None:
    for name in ("one", "two"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"f": name})))
    first, second = engine.backup_job("one"), engine.backup_job("two")
    second_waiting = threading.Event()
    first.add_listener(HoldUntil(second_waiting))
    recorder = Recorder()
    second.add_listener(recorder)

    class Waiting(JobListener):
        def job_state(self, job, state) -> None:
            if state == JobState.WAITING:
                second_waiting.set()

    second.add_listener(Waiting())
    thread = threading.Thread(target=first.run)
    thread.start()
    wait_until(lambda: first.state == JobState.RUNNING)
    second.run()
    thread.join(30)
    assert first.state == second.state == JobState.SUCCEEDED
    assert recorder.states[:2] == [JobState.WAITING, JobState.RUNNING]
    assert second.store_intervals[0][0] >= first.store_intervals[0][1]


def test_a_restore_after_an_abandoned_mutex_says_so(engine, lockdir, tmp_path: Path) -> None:
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"f": "x"})))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    dead = fake_record("folder", pid=dead_pid(), job_id="backup-killed", operation="backup")
    write_holder(lockdir.holder_path("folder"), dead, lockdir.file_mode)
    job = engine.restore_job("docs")
    assert job.run() == JobState.WARNINGS
    assert any("abandoned" in warning and "backup-killed" in warning for warning in job.warnings)


def test_a_job_that_cannot_get_its_mutex_in_time_names_the_holder(home: Path, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "docs", {"f": "x"})
    env = {**os.environ, "STRONGROOM_HOME": str(home)}
    assert subprocess.run([*CLI, "store", "add", "docs", "--type", "folder", str(source)], env=env,
                          timeout=30).returncode == 0
    # The holder says when it holds, then holds until the test closes its stdin.
    holder = subprocess.Popen([*CLI, "locks", "with", "folder", "--job-id", "cli-holder", "--",
                               "sh", "-c", "echo holding; read -r _"], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        result = subprocess.run([*CLI, "backup", "docs", "--wait", "0.5", "--json"], env=env, capture_output=True,
                                text=True, timeout=60)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode == 1
    (outcome,) = json.loads(result.stdout)
    assert outcome["state"] == "failed" and "cli-holder" in outcome["error"]
    assert outcome["set_id"] is None


def test_hold_times_never_overlap_even_when_the_next_holder_is_quicker(engine, tmp_path: Path, monkeypatch) -> None:
    """Found by the soak: a job read its 'gave back' time after releasing, so the next holder's
    'took' could come first and the two holds seemed to overlap by a few milliseconds."""
    from strongroom.core.mutex import Hold

    for name in ("one", "two"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"f": name})))
    first, second = engine.backup_job("one"), engine.backup_job("two")
    second_holds = threading.Event()

    class Holds(JobListener):
        def job_state(self, job, state) -> None:
            if state == JobState.RUNNING:
                second_holds.set()

    second.add_listener(Holds())
    first_holds = HoldUntil(threading.Event())
    first.add_listener(first_holds)
    release = Hold.release

    def release_then_let_the_next_holder_in_first(hold) -> None:
        release(hold)
        if hold.record.job_id == first.id:
            assert second_holds.wait(10), "the second job never took the mutex"

    monkeypatch.setattr(Hold, "release", release_then_let_the_next_holder_in_first)
    runner = threading.Thread(target=first.run)
    runner.start()
    assert first_holds.entered.wait(10)
    waiter = threading.Thread(target=second.run)
    waiter.start()
    wait_until(lambda: second.state == JobState.WAITING)
    first_holds.release.set()
    runner.join(30)
    waiter.join(30)
    assert [first.state, second.state] == [JobState.SUCCEEDED] * 2
    (_, gave), (took, _) = first.store_intervals[0], second.store_intervals[0]
    assert gave <= took
