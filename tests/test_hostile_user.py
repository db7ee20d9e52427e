"""A local user who can write into a destination or a store, racing root's restores and backups.

Each test runs a real process of a second user (created for the tests) that swaps a folder
for a link to somewhere else, hundreds of times, while root restores or backs up through
that folder. Not one byte may land outside the destination, no file outside may change owner
or mode, and no byte from outside the store may enter a set.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from .conftest import CLI, as_user, wait_until

RACER = Path(__file__).with_name("racer.py")
SWAPS = 3000  # about a second of swapping, through every restore or backup of a test
SECRET = b"root's secret, never to be in a set of another folder"


@pytest.fixture
def shared():
    """A folder both root and the second user can reach (pytest's own are root's alone)."""
    place = Path(tempfile.mkdtemp(prefix="strongroom-hostile-"))
    os.chmod(place, 0o755)
    yield place
    subprocess.run(["rm", "-rf", str(place)], check=True)


def state_of(folder: Path) -> dict[str, tuple]:
    """Every item below ``folder``: type, owner, mode, content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        status = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(status.st_mode) else None
        found[str(path.relative_to(folder))] = (stat.S_IFMT(status.st_mode), status.st_uid, status.st_gid,
                                                stat.S_IMODE(status.st_mode), content)
    return found


def start_racer(attacker, folder: Path, target: Path, stop: Path) -> subprocess.Popen:
    racer = as_user(attacker, sys.executable, str(RACER), str(folder), str(target), str(SWAPS), str(stop),
                    stdout=subprocess.PIPE, text=True)
    assert racer.stdout.readline() == "racing\n"
    return racer


def finish_racer(racer: subprocess.Popen, stop: Path) -> int:
    stop.touch()
    output, _ = racer.communicate(timeout=60)
    return int(output.strip() or 0)


def outside_of(shared: Path) -> Path:
    """Root's folder that no restore may write into: a sentinel and a root-only file."""
    outside = shared / "outside"
    outside.mkdir(mode=0o755)
    (outside / "sentinel").write_bytes(b"untouched")
    (outside / "shadow").write_bytes(b"root only")
    os.chmod(outside / "shadow", 0o600)
    return outside


def test_a_folder_swapped_for_a_link_during_restores_never_carries_a_write_outside(engine, attacker, shared: Path):
    uid, gid, _ = attacker
    store = shared / "store"
    (store / "notes").mkdir(parents=True)
    for number in range(40):
        (store / "notes" / f"note{number:02d}.txt").write_bytes(b"restored bytes %d" % number)
    os.chown(store, uid, gid)  # the attacker's own folders (a home): restoring them gives them back to them
    os.chown(store / "notes", uid, gid)
    os.chmod(store / "notes", 0o777)
    engine.add_store("docs", "folder", str(store))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    outside = outside_of(shared)
    before = state_of(outside)
    destination = shared / "destination"
    (destination / "notes").mkdir(parents=True)
    subprocess.run(["chown", "-R", f"{uid}:{gid}", str(destination)], check=True)  # the attacker can write here
    stop = shared / "stop-racing"
    outcomes = []
    for target in (outside, outside / "shadow"):  # a folder outside; a root-only file to be chowned or chmodded
        stop.unlink(missing_ok=True)
        racer = start_racer(attacker, destination / "notes", target, stop)
        try:
            for _ in range(12):
                job = engine.restore_job("docs", RestoreOptions(to=destination, overwrite="always"))
                outcomes.append((job.run(), job.error or ""))
        finally:
            swaps = finish_racer(racer, stop)
        assert swaps > 0
        assert state_of(outside) == before, f"something outside changed (racer made {swaps} swaps)"
    refused = [error for state, error in outcomes if state == JobState.FAILED]
    # Each refusal names the swapped folder: that a link is there, that it is gone, or (when the swap lands between
    # two system calls on one file in it) the one-line destination error with the call's own reason.
    unclear = [error for error in refused if str(destination / "notes") not in error or not (
        "is a link" in error or "No such file" in error or "Not a directory" in error
        or error.startswith("cannot write to the restore destination "))]
    assert refused and not unclear, unclear
    assert all("Traceback" not in error for _, error in outcomes)


def test_a_folder_swapped_for_a_link_during_backups_never_brings_outside_bytes_in(engine, attacker, shared: Path):
    uid, gid, _ = attacker
    store = shared / "home-of-user"
    (store / "sub").mkdir(parents=True)
    (store / "sub" / "public.txt").write_bytes(b"the user's own")
    subprocess.run(["chown", "-R", f"{uid}:{gid}", str(store)], check=True)
    secret = shared / "root-only"
    secret.mkdir(mode=0o700)
    (secret / "public.txt").write_bytes(SECRET)  # the same name, so a followed link would look right
    engine.add_store("home", "folder", str(store))
    stop = shared / "stop-racing"
    racer = start_racer(attacker, store / "sub", secret, stop)
    set_ids = []
    try:
        for _ in range(12):
            job = engine.backup_job("home", BackupOptions(verify=False))
            assert job.run() in (JobState.SUCCEEDED, JobState.WARNINGS), job.error
            set_ids.append(job.set_id)
    finally:
        swaps = finish_racer(racer, stop)
    assert swaps > 0
    for set_id in set_ids:
        with engine.open_set(set_id) as reader:
            files = [entry for entry in reader.manifest.own_entries if entry.type == "file"]
            for entry in files:
                assert reader.read_file(entry) != SECRET, f"{entry.path} in {set_id} holds root's file"


def test_never_is_decided_again_when_writing_a_file_written_meanwhile_is_kept(home: Path, engine, tmp_path: Path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "report.txt").write_text("as backed up")
    (store / "older.txt").write_text("as backed up")
    engine.add_store("docs", "folder", str(store))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    destination = tmp_path / "destination"
    destination.mkdir()
    (destination / "older.txt").write_text("an old copy")
    os.utime(destination / "older.txt", (0, 0))
    holder = subprocess.Popen([*CLI, "--home", str(home), "locks", "with", "folder", "--", "sh", "-c",
                               "echo holding; read -r _"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    results = {}
    try:
        assert holder.stdout.readline() == "holding\n"
        for policy in ("never", "if-older"):
            job = engine.restore_job("docs", RestoreOptions(to=destination, overwrite=policy))
            worker = threading.Thread(target=lambda job=job: results.setdefault(job.options.overwrite, job.run()))
            worker.start()
            results[f"{policy} job"] = (job, worker)
        wait_until(lambda: all(results[f"{p} job"][0].state == JobState.WAITING for p in ("never", "if-older")))
        # the plans are made: report.txt is to be created, older.txt replaced. Someone writes both meanwhile.
        (destination / "report.txt").write_text("written while the restore waited")
        (destination / "older.txt").write_text("rewritten while the restore waited")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    for policy in ("never", "if-older"):
        job, worker = results[f"{policy} job"]
        worker.join(timeout=60)
        assert job.state == JobState.WARNINGS, (policy, job.error)
        assert any("after the restore was planned" in warning for warning in job.warnings), job.warnings
    assert (destination / "report.txt").read_text() == "written while the restore waited"
    assert (destination / "older.txt").read_text() == "rewritten while the restore waited"
