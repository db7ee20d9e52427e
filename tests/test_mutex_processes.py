"""The mutex engine across real processes: exclusion, overlap, order, dead and foreign holders."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strongroom.core.mutex import MutexOwner, MutexTimeout
from strongroom.core.mutex.records import read_record, write_record
from strongroom.core.remedies import cli_words, explained

from .conftest import CLI, cli, cli_status, fake_record, wait_until

# The "work" a holder does: note when it started and ended, by its own clock.
WORK = ("import sys, time; s = time.time(); time.sleep(float(sys.argv[2])); "
        "open(sys.argv[1], 'a').write(f'{s} {time.time()} {sys.argv[3]}\\n')")


def start_holder(home: Path, store_type: str, log: Path, seconds: float, job_id: str = "job") -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "--home", str(home), "locks", "with", store_type, "--timeout", "60", "--job-id", job_id,
         "--", sys.executable, "-c", WORK, str(log), str(seconds), job_id],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def spans(log: Path) -> list[tuple[float, float, str]]:
    """(start, end, job id) of every piece of work, by start time."""
    entries = (line.split() for line in log.read_text().splitlines())
    return sorted((float(start), float(end), job) for start, end, job in entries)


def finish(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err


def test_same_type_processes_take_turns(home, tmp_path):
    log = tmp_path / "folder.log"
    processes = [start_holder(home, "folder", log, 0.15) for _ in range(5)]
    finish(processes)
    intervals = spans(log)
    assert len(intervals) == 5
    for (_, end, _), (start, _, _) in zip(intervals, intervals[1:]):
        assert end <= start, f"two processes held strongroom.folder at once: {intervals}"


def test_different_type_processes_overlap(home, tmp_path):
    folder_log, sqlite_log = tmp_path / "folder.log", tmp_path / "sqlite.log"
    processes = [start_holder(home, "folder", folder_log, 1.0), start_holder(home, "sqlite", sqlite_log, 1.0)]
    finish(processes)
    (f_start, f_end, _), = spans(folder_log)
    (s_start, s_end, _), = spans(sqlite_log)
    assert max(f_start, s_start) < min(f_end, s_end), "jobs on different store types did not run at the same time"


def test_processes_are_served_in_arrival_order(home, tmp_path, registry):
    log = tmp_path / "order.log"
    gate = registry.acquire("folder", MutexOwner("gate", "hold", "*"), timeout=1)
    processes = []
    try:
        for n in range(4):
            processes.append(start_holder(home, "folder", log, 0.0, f"p{n}"))
            wait_until(lambda n=n: len(cli_status(home)["folder"]["waiters"]) == n + 1, timeout=30)
        waiting = [w["job_id"] for w in cli_status(home)["folder"]["waiters"]]
        assert waiting == ["p0", "p1", "p2", "p3"]
    finally:
        gate.release()
    finish(processes)
    assert [job for _, _, job in spans(log)] == ["p0", "p1", "p2", "p3"]


def test_a_killed_holder_leaves_no_stuck_mutex(home, registry):
    # The child holds until its stdin closes (when the test ends), not for a fixed time.
    holder = subprocess.Popen([*CLI, "--home", str(home), "locks", "with", "sqlite", "--job-id", "doomed",
                               "--", sys.executable, "-c", "import sys; sys.stdin.read()"],
                              start_new_session=True, stdin=subprocess.PIPE)
    try:
        wait_until(lambda: (cli_status(home)["sqlite"]["holder"] or {}).get("job_id") == "doomed", timeout=30)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        before = time.monotonic()
        with registry.acquire("sqlite", MutexOwner("next", "restore", "db"), timeout=5) as hold:
            waited = time.monotonic() - before
            assert hold.abandoned is not None
            assert hold.abandoned.pid == holder.pid and hold.abandoned.job_id == "doomed"
            assert any("abandoned" in note and "doomed" in note for note in hold.notes)
        assert waited < 1.0
        status = cli_status(home)["sqlite"]
        assert status["state"] == "free" and status["holder"] is None
    finally:
        holder.stdin.close()  # the orphaned child reads end-of-file and exits
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)


def test_a_stale_record_shows_as_stale_until_cleared(home, registry, lockdir):
    from .conftest import dead_pid

    write_record(lockdir.holder_path("folder"), fake_record("folder", pid=dead_pid(), process_start=None), 0o600)
    assert cli_status(home)["folder"]["state"] == "stale"
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 0 and "stale" in result.stdout
    assert cli_status(home)["folder"]["state"] == "free"


def test_a_foreign_host_record_is_shown_and_never_broken_automatically(home, registry, lockdir):
    write_record(lockdir.holder_path("folder"), fake_record("folder", host="far-away.example", pid=4242), 0o600)
    status = cli_status(home)["folder"]
    assert status["state"] == "held" and status["holder"]["host"] == "far-away.example"
    with pytest.raises(MutexTimeout, match="far-away.example.*never broken automatically") as timed_out:
        registry.acquire("folder", MutexOwner("j", "backup", "docs"), timeout=0.3)
    assert explained(timed_out.value, cli_words).endswith("clear it with 'strongroom locks break folder'")
    assert read_record(lockdir.holder_path("folder")).host == "far-away.example"  # untouched
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 0, result.stderr
    assert "far-away.example" in result.stdout
    with registry.acquire("folder", MutexOwner("j", "backup", "docs"), timeout=1) as hold:
        assert hold.abandoned is None


def test_break_asks_first_and_refuses_a_live_local_holder(home, registry, lockdir):
    write_record(lockdir.holder_path("folder"), fake_record("folder", host="far-away.example"), 0o600)
    declined = cli(home, "locks", "break", "folder", input="n\n")
    assert declined.returncode == 1 and "Break it?" in declined.stdout
    assert cli_status(home)["folder"]["state"] == "held"
    with registry.acquire("sqlite", MutexOwner("live", "backup", "db"), timeout=1):
        refused = cli(home, "locks", "break", "sqlite", "--force")
        assert refused.returncode == 1 and "live process" in refused.stderr
        assert cli_status(home)["sqlite"]["holder"]["job_id"] == "live"


LOOP = """
import sys, time
from strongroom.core.mutex import LockDirectory, MutexOwner, MutexRegistry
registry = MutexRegistry(LockDirectory(sys.argv[1]))
store_type, name, log = sys.argv[2], sys.argv[3], sys.argv[4]
print("ready", flush=True)
sys.stdin.readline()  # every process starts at once, so that the two types' turns are taken side by side
with open(log, "a") as out:
    for n in range(15):
        with registry.acquire(store_type, MutexOwner(f"{name}-{n}", "backup", name), timeout=60):
            start = time.time()
            sum(range(20000))
            out.write(f"{start} {time.time()} {name}-{n}\\n")
            out.flush()
"""


def test_many_processes_on_two_types_never_overlap_within_a_type(home, tmp_path):
    logs = {"folder": tmp_path / "folder.log", "sqlite": tmp_path / "sqlite.log"}
    processes = [
        subprocess.Popen([sys.executable, "-c", LOOP, str(home / "locks"), store_type, f"{store_type}{n}",
                          str(logs[store_type])], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n in range(3) for store_type in logs
    ]
    for process in processes:
        assert process.stdout.readline() == "ready\n"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    for store_type, log in logs.items():
        intervals = spans(log)
        assert len(intervals) == 45
        for (_, end, a), (start, _, b) in zip(intervals, intervals[1:]):
            assert end <= start, f"{a} and {b} held strongroom.{store_type} at once"
    folder, sqlite = spans(logs["folder"]), spans(logs["sqlite"])
    assert folder[0][0] < sqlite[-1][1] and sqlite[0][0] < folder[-1][1], "the two types did not run side by side"
    assert cli_status(home)["folder"]["state"] == "free" and cli_status(home)["sqlite"]["state"] == "free"
