"""Owner records on disk: garbage never breaks status or acquire; stale records are cleared."""

from __future__ import annotations

import json
import os
import time

import pytest

from strongroom.core.mutex import MutexOwner, snapshot
from strongroom.core.mutex.records import MalformedRecord, read_record, write_record
from strongroom.core.remedies import cli_words, with_words

from .conftest import dead_pid, fake_record

OWNER = MutexOwner("j1", "backup", "docs")

GARBAGE = {
    "truncated": lambda: fake_record("folder").to_bytes()[:40],
    "empty": lambda: b"",
    "not-json": lambda: b"\x00\xff\xfe garbage \x89PNG",
    "huge": lambda: b'{"format": 1, "pad": "' + b"x" * 2_000_000 + b'"}',
    "a-list": lambda: b"[1, 2, 3]",
    "pid-as-text": lambda: _mutated(pid="1234"),
    "negative-pid": lambda: _mutated(pid=-5),
    "bool-pid": lambda: _mutated(pid=True),
    "missing-job": lambda: _mutated(job_id=None),
    "nan-since": lambda: fake_record("folder").to_bytes().replace(b'"since":', b'"since":NaN,"x":'),
    "huge-text": lambda: _mutated(store="s" * 10_000),
    "future-format": lambda: _mutated(format=99),
}


def _mutated(**changes) -> bytes:
    data = json.loads(fake_record("folder").to_bytes())
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_holder_record_shows_unknown_and_acquire_replaces_it(kind, registry, lockdir):
    lockdir.holder_path("folder").write_bytes(GARBAGE[kind]())
    status = {s.store_type: s for s in snapshot(lockdir, ["folder"])}["folder"]
    assert status.state == "unknown"
    assert str(lockdir.holder_path("folder")) in status.detail
    assert "'strongroom locks break folder'" in with_words(status.detail, status.fix, cli_words)
    with registry.acquire("folder", OWNER, timeout=1) as hold:
        assert hold.abandoned is None
        assert any("unreadable owner record" in note for note in hold.notes)
        assert read_record(lockdir.holder_path("folder")).job_id == "j1"
    assert {s.store_type: s.state for s in snapshot(lockdir)}["folder"] == "free"


@pytest.mark.parametrize("kind", ["directory", "symlink", "fifo"])
def test_holder_path_that_is_not_a_file_never_raises_from_status(kind, lockdir):
    lockdir.ensure()
    path = lockdir.holder_path("sqlite")
    if kind == "directory":
        path.mkdir()
    elif kind == "symlink":
        path.symlink_to("/etc/passwd")
    else:
        os.mkfifo(path)
    with pytest.raises(MalformedRecord):
        read_record(path)
    status = {s.store_type: s for s in snapshot(lockdir, ["sqlite"])}["sqlite"]
    assert status.state == "unknown"


def test_garbage_waiter_files_are_ignored(registry, lockdir):
    waiting = lockdir.ensure_waiting_dir("folder")
    (waiting / "00000000000000000001-1-1.json").write_bytes(b"not json")
    (waiting / "nonsense.json").write_bytes(b"{}")
    (waiting / "00000000000000000002-1-1.json").mkdir()
    status = {s.store_type: s for s in snapshot(lockdir, ["folder"])}["folder"]
    assert status.state == "free" and status.waiters == ()
    with registry.acquire("folder", OWNER, timeout=1):
        pass


def test_dead_waiters_do_not_block_and_are_pruned(registry, lockdir):
    waiting = lockdir.ensure_waiting_dir("folder")
    pid = dead_pid()
    ghost = waiting / f"{1:020d}-{pid}-7.json"
    write_record(ghost, fake_record("folder", pid=pid, process_start=None, ticket=1), 0o600)
    assert {s.store_type: s for s in snapshot(lockdir)}["folder"].waiters == ()
    with registry.acquire("folder", OWNER, timeout=1):
        pass
    assert not ghost.exists()


def test_a_remote_waiter_counts_only_while_its_heartbeat_is_fresh(registry, lockdir):
    waiting = lockdir.ensure_waiting_dir("folder")
    remote = waiting / f"{1:020d}-99-7.json"
    write_record(remote, fake_record("folder", host="far-away.example", pid=99, ticket=1,
                                     heartbeat=time.time() - 3600), 0o600)
    with registry.acquire("folder", OWNER, timeout=1):  # a silent remote waiter is passed over
        pass
    write_record(remote, fake_record("folder", host="far-away.example", pid=99, ticket=1), 0o600)
    status = {s.store_type: s for s in snapshot(lockdir)}["folder"]
    assert [w.host for w in status.waiters] == ["far-away.example"]
    with pytest.raises(Exception, match="queued behind job job-x"):
        registry.acquire("folder", OWNER, timeout=0.2)


def test_a_reused_pid_is_recognised_as_dead(lockdir, registry):
    # Our own pid, but recorded with another start time: the pid was reused.
    write_record(lockdir.holder_path("folder"), fake_record("folder", process_start="x:1"), 0o600)
    assert {s.store_type: s for s in snapshot(lockdir)}["folder"].state == "stale"
    with registry.acquire("folder", OWNER, timeout=1) as hold:
        assert hold.abandoned is not None and hold.abandoned.process_start == "x:1"


def test_a_record_from_before_a_reboot_is_dead(lockdir):
    lockdir.ensure()
    me = fake_record("folder")
    if me.process_start is None:
        pytest.skip("this platform has no boot id")
    rebooted = fake_record("folder", process_start="another-boot:" + me.process_start.split(":", 1)[1])
    write_record(lockdir.holder_path("folder"), rebooted, 0o600)
    assert {s.store_type: s for s in snapshot(lockdir)}["folder"].state == "stale"


def test_heartbeat_refreshes_a_held_record(registry, lockdir):
    with registry.acquire("folder", OWNER, timeout=1) as hold:
        before = read_record(lockdir.holder_path("folder")).heartbeat
        hold.beat(before + 5)
        assert read_record(lockdir.holder_path("folder")).heartbeat == before + 5
    hold.beat(before + 10)  # after release: writes nothing
    assert not lockdir.holder_path("folder").exists()


def test_records_of_unknown_store_types_are_listed(lockdir):
    lockdir.ensure()
    write_record(lockdir.holder_path("mail"), fake_record("mail", process_start="x:1"), 0o600)
    assert [s.store_type for s in snapshot(lockdir, ["folder"])] == ["folder", "mail"]


def test_lock_files_are_never_deleted(registry, lockdir):
    for _ in range(3):
        with registry.acquire("folder", OWNER, timeout=1):
            inode = lockdir.lock_path("folder").stat().st_ino
    assert lockdir.lock_path("folder").stat().st_ino == inode


def test_the_heartbeat_thread_beats_its_members():
    import threading

    from strongroom.core.mutex.heartbeat import Heartbeat

    class Member:
        def __init__(self) -> None:
            self.beats = threading.Event()

        def beat(self, now: float) -> None:
            self.beats.set()

    heartbeat, member = Heartbeat(interval=0.01), Member()
    heartbeat.add(member)
    assert member.beats.wait(10)
    heartbeat.discard(member)
