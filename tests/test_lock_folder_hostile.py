"""A shared lock folder is hostile territory: others may plant links, folders and forged records there.

Strongroom never chmods a folder it did not make, never writes through a planted link, does
not wait for a waiter whose process does not hold its record, and breaking a mutex never
ends in a traceback.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from strongroom.core.identity import boot_id, host_name, pid_namespace, process_start_token
from strongroom.core.mutex import LockDirectory, MutexOwner, MutexRegistry
from strongroom.core.mutex.lockdir import LockDirectoryError
from strongroom.core.mutex.records import MutexRecord, write_record

from .conftest import cli


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("scope", ["user", "machine"])
def test_an_existing_folder_given_as_lock_dir_is_never_chmodded(home: Path, tmp_path: Path, scope: str) -> None:
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    result = cli(home, "--lock-dir", str(shared), "--lock-scope", scope, "locks")
    assert mode(shared) == 0o1777
    if scope == "user":  # others could forge records in it: refused, with what to run
        assert result.returncode == 1 and f"chmod 700 {shared}" in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_a_folder_strongroom_makes_gets_the_scope_mode(tmp_path: Path) -> None:
    for scope, wanted in (("user", 0o700), ("machine", 0o2770)):
        lockdir = LockDirectory(tmp_path / scope / "locks", scope)
        lockdir.ensure()
        assert mode(lockdir.path) == wanted


def test_a_link_planted_as_the_waiting_folder_is_refused_and_nothing_is_written_through_it(tmp_path: Path) -> None:
    lockdir = LockDirectory(tmp_path / "locks", "machine")
    lockdir.ensure()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, lockdir.waiting_dir("folder"))
    with pytest.raises(LockDirectoryError, match="is a link, not a folder"):
        lockdir.ensure_waiting_dir("folder")
    with MutexRegistry(lockdir).acquire("folder", MutexOwner("first", "backup", "docs"), timeout=5):
        with pytest.raises(LockDirectoryError, match="is a link"):  # a second process's view: it would wait
            MutexRegistry(lockdir).acquire("folder", MutexOwner("second", "backup", "docs"), timeout=1)
    assert list(elsewhere.iterdir()) == []


def forged_waiter(lockdir: LockDirectory, store_type: str) -> Path:
    """A waiter record naming pid 1 with its real start time, as any user of a shared folder can write."""
    now = time.time()
    record = MutexRecord(store_type=store_type, job_id="forged", operation="backup", store="x", host=host_name(),
                         pid=1, process_start=process_start_token(1), pid_namespace=pid_namespace(),
                         thread="MainThread", thread_id=1, since=now - 60, heartbeat=now, ticket=1)
    folder = lockdir.ensure_waiting_dir(store_type)
    path = folder / f"{1:020d}-1-1.json"
    write_record(path, record, lockdir.file_mode)
    return path


def test_a_forged_waiter_blocks_nobody_shows_nowhere_and_break_clears_it(home: Path) -> None:
    lockdir = LockDirectory(home / "locks")
    lockdir.ensure()
    assert process_start_token(1) is not None and boot_id() is not None  # pid 1 really is alive here
    forged = forged_waiter(lockdir, "folder")
    registry = MutexRegistry(lockdir)
    started = time.monotonic()
    with registry.acquire("folder", MutexOwner("real", "backup", "docs"), timeout=10):
        assert time.monotonic() - started < 5
        status = {entry["store_type"]: entry for entry in json.loads(cli(home, "locks", "--json").stdout)}
        assert status["folder"]["waiters"] == []
    forged = forged_waiter(lockdir, "folder")
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 0, result.stderr
    assert "cleared 1 record of waiters that were not waiting" in result.stdout
    assert not forged.exists()


def test_a_folder_where_the_holder_record_belongs_gets_a_message_not_a_traceback(home: Path) -> None:
    lockdir = LockDirectory(home / "locks")
    lockdir.ensure()
    lockdir.holder_path("folder").mkdir()
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is a folder, not a holder record" in result.stderr and "rm -r" in result.stderr
    assert lockdir.holder_path("folder").is_dir()
