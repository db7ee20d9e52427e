"""Bad input and faults while backing up: each ends in a clear message and loses nothing."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from strongroom.core.archive import SetWriter
from strongroom.core.catalog import CatalogError
from strongroom.core.jobs import BackupOptions, JobListener, JobState
from strongroom.core.restore import RestoreOptions
from strongroom.core.stores import StoreError

from .conftest import cli, run_backup
from .trees import make_tree


def leftovers(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith((".partial", ".sqlite-copy"))]


@pytest.mark.parametrize("moment", ["while reading the store", "while verifying the written set"])
def test_a_cancelled_backup_leaves_no_set_no_temporary_file_and_no_held_mutex(engine, docs: Path, moment) -> None:
    job = engine.backup_job("docs", BackupOptions(threads=1))

    class CancelAt(JobListener):
        def job_state(self, job, state) -> None:
            if moment == "while reading the store" and state == JobState.RUNNING:
                job.cancel()

        def job_log(self, job, line) -> None:
            if moment == "while verifying the written set" and line.startswith("verifying"):
                job.cancel()

    job.add_listener(CancelAt())
    assert job.run() == JobState.CANCELLED
    assert engine.catalog.list_sets() == []
    target = engine.default_target
    assert not [path for path in target.rglob("*") if path.is_file()]
    assert [status.state for status in engine.registry.status() if status.store_type == "folder"] == ["free"]
    assert engine.catalog.get_job(job.id).state == "cancelled"


def test_a_cancel_while_the_last_frames_are_compressed_does_not_wait_for_them(tmp_path: Path) -> None:
    """At level 19 the queued batches take seconds; a cancelled job (the agent stopping) must not wait."""
    from strongroom.core.archive import Entry
    from strongroom.core.archive.manifest import SetInfo

    class Cancelled(Exception):
        pass

    compressing_when_asked = []

    def check() -> None:
        compressing_when_asked.append(writer._pipe._thread.is_alive())
        raise Cancelled

    path = tmp_path / "set.tar.zst"
    with SetWriter(path, set_id="s", level=19, threads=2, check_cancelled=check) as writer:
        for number in range(4):
            data = os.urandom(3 << 20)
            writer.add_bytes(Entry(path=f"f{number}", type="file", mode=0o644, mtime_ns=0, size=len(data)), data)
        with pytest.raises(Cancelled):
            writer.finish(SetInfo(set_id="s", store="docs", store_type="folder", kind="full", parent=None,
                                  created="2026-12-02T00:00:00.000Z", source="/x", compression_level=19, notes=()))
    assert compressing_when_asked == [True]  # the cancel was heard while the compressor still had work
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_path_fails_with_its_name(engine, docs: Path) -> None:
    docs.rename(docs.with_name("moved"))
    job = run_backup(engine)
    assert job.state == JobState.FAILED
    assert job.error.startswith(f"the store path {docs} does not exist")


@pytest.mark.parametrize(("store_type", "make", "message"), [
    ("folder", lambda p: p.write_text("a file"), "is a file, not a folder"),
    ("sqlite", lambda p: p.write_text("not a database at all"), "is not a SQLite database"),
    ("sqlite", lambda p: p.mkdir(), "is a folder, not a SQLite database"),
    ("folder", lambda p: None, "does not exist"),
])
def test_a_store_path_of_the_wrong_kind_is_refused(engine, tmp_path: Path, store_type, make, message) -> None:
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(StoreError, match=message):
        engine.add_store("thing", store_type, str(path))
    assert engine.catalog.list_stores() == []


def test_a_duplicate_store_name_is_refused(engine, docs: Path) -> None:
    from strongroom.core.remedies import Remedy, cli_words, fix_of

    with pytest.raises(CatalogError, match="a store called 'docs' already exists") as refused:
        engine.add_store("docs", "folder", str(docs))
    fix = fix_of(refused.value)
    assert fix.remedy == Remedy.REMOVE_STORE_FIRST and "strongroom store remove docs" in cli_words(fix)


def test_a_target_that_cannot_be_written_gets_a_clear_message(engine, docs: Path, tmp_path: Path) -> None:
    from strongroom.core.remedies import cli_words, with_words
    from strongroom.gui.messages import console_words

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    job = run_backup(engine, target=blocker)
    assert job.state == JobState.FAILED
    assert job.error.startswith(f"cannot write to the target {blocker}")
    assert with_words(job.error, job.fix, cli_words).endswith("make it writable, or choose another --target")
    assert with_words(job.error, job.fix, console_words).endswith("in the backup wizard or in Settings")
    assert engine.catalog.list_sets() == []


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_a_full_disk_mid_set_leaves_no_partial_set(home: Path, tmp_path: Path) -> None:
    """A real write failure from the kernel (a file-size limit, as on a full small disk)."""
    source = make_tree(tmp_path / "src", {"random.bin": os.urandom(3 << 20)})
    assert cli(home, "store", "add", "docs", "--type", "folder", str(source)).returncode == 0
    target = tmp_path / "target"
    result = cli(home, "backup", "docs", "--target", str(target), preexec_fn=_limit_file_size)
    assert result.returncode == 1
    assert "ran out of space" in result.stdout and "nothing was kept" in result.stdout
    assert leftovers(target) == [] and not list((target / "docs").glob("*.tar.zst"))
    assert cli(home, "sets", "--json").stdout.strip() == "[]"
    assert "Traceback" not in result.stderr


def test_disk_full_while_finishing_removes_everything(engine, docs: Path, monkeypatch) -> None:
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("strongroom.core.archive.writer.os.fsync", full_disk)
    job = run_backup(engine)
    monkeypatch.setattr("strongroom.core.archive.writer.os.fsync", real_fsync)
    assert job.state == JobState.FAILED and "ran out of space" in job.error
    assert not [path for path in engine.default_target.rglob("*") if path.is_file()]
    assert engine.catalog.list_sets() == []


@pytest.mark.parametrize(("args", "named"), [
    (("backup", "nope"), "no store called 'nope'"),
    (("verify", "nope"), "'nope' is neither a backup set id nor a set file"),
    (("browse", "nope"), "no backup set 'nope'"),
    (("restore", "nope"), "no store called 'nope'"),
    (("store", "remove", "nope"), "no store called 'nope'"),
    (("store", "add", "x", "--type", "folder", "/no/such/folder"), "the store path /no/such/folder does not exist"),
])
def test_cli_errors_are_one_line_naming_the_thing(home: Path, args, named) -> None:
    result = cli(home, *args)
    assert result.returncode == 1, args
    message = (result.stderr + result.stdout).strip()
    assert "\n" not in message and "Traceback" not in message
    assert named in message


def test_store_type_must_be_known(home: Path, tmp_path: Path) -> None:
    result = cli(home, "store", "add", "x", "--type", "postgres", str(tmp_path))
    assert result.returncode == 2 and "invalid choice: 'postgres'" in result.stderr


def test_a_file_size_limit_does_not_kill_the_test_runner() -> None:
    """Guard for the test above: the limit applies to the child only."""
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] in (resource.RLIM_INFINITY, resource.getrlimit(
        resource.RLIMIT_FSIZE)[1])
    assert subprocess.run(["true"], preexec_fn=_limit_file_size, timeout=30).returncode == 0


def test_partial_files_of_killed_processes_are_removed_by_the_next_job(engine, tmp_path):
    """A SIGKILLed backup or restore cannot clean up; the next job into that folder does."""
    from strongroom.core.identity import this_process
    from strongroom.core.leftovers import _host_label, remove_stale_partials
    from .conftest import dead_pid

    source = make_tree(tmp_path / "docs", {"a.txt": "a", "sub/b.txt": "b"})
    engine.add_store("docs", "folder", str(source))
    host = _host_label(this_process().host)
    target = engine.default_target / "docs"
    target.mkdir(parents=True)
    dead = dead_pid()
    killed_backup = target / f".docs-1.tar.zst.strongroom-{host}-{dead}.partial"
    killed_copy = target / f".crm.db.1.sqlite-copy.strongroom-{host}-{dead}.partial-journal"
    live = target / f".docs-2.tar.zst.strongroom-{host}-{os.getpid()}.partial"  # this process: alive
    foreign = target / f".docs-3.tar.zst.strongroom-otherhost-{dead}.partial"  # cannot be judged from here
    unrelated = target / "notes.partial"
    for path in (killed_backup, killed_copy, live, foreign, unrelated):
        path.write_bytes(b"x")
    job = engine.backup_job("docs")
    assert job.run() == JobState.SUCCEEDED
    assert not killed_backup.exists() and not killed_copy.exists()
    assert live.exists() and foreign.exists() and unrelated.exists()
    assert any("removed 2 partial files" in line for line in job.log_lines)

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    killed_restore = out / "sub" / f".b.txt.strongroom-{host}-{dead}.partial"
    killed_restore.write_bytes(b"half")
    restore = engine.restore_job("docs", RestoreOptions(to=out))
    assert restore.run() == JobState.SUCCEEDED
    assert not killed_restore.exists() and (out / "sub" / "b.txt").read_text() == "b"
    assert remove_stale_partials(tmp_path / "does-not-exist") == []


def test_jobs_of_a_killed_process_are_closed_as_failed_and_hold_times_are_kept(engine, tmp_path, home):
    from strongroom.core.engine import Engine
    from strongroom.core.mutex import MutexOwner

    from .conftest import CLI, wait_until

    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    hold = engine.registry.acquire("folder", MutexOwner("test-holder", "hold", "*"), timeout=5)
    try:
        process = subprocess.Popen([*CLI, "--home", str(home), "backup", "docs", "--wait", "60"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        waiting = wait_until(lambda: [job for job in engine.catalog.list_jobs() if job.state == "waiting"])
        assert waiting[0].pid == process.pid
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        hold.release()
    [closed] = Engine(engine.paths, registry=engine.registry).orphaned_jobs
    record = engine.catalog.get_job(closed.id)
    assert record.state == "failed" and f"pid {process.pid}" in record.error and "killed or crashed" in record.error
    assert "while the job was waiting" in record.error
    assert not engine.catalog.list_sets()

    job = engine.backup_job("docs")
    assert job.run() == JobState.SUCCEEDED
    [[took, gave]] = engine.catalog.get_job(job.id).holds
    assert took <= gave and (took, gave) == job.store_intervals[0]
    assert Engine(engine.paths, registry=engine.registry).orphaned_jobs == []  # live and finished jobs stay


KILLED_AT = """
import os, sys
from strongroom.core.archive import writer
from strongroom.core.catalog import catalog
from strongroom.core.engine import Engine
from strongroom.core.paths import resolve_paths
home, where = sys.argv[1], sys.argv[2]
if where == "after the catalog record":
    writer.SetWriter.commit = lambda self: os._exit(9)
else:
    catalog.Catalog.add_set = lambda self, record, job_id=None: os._exit(9)
Engine(resolve_paths(home)).backup_job("docs").run()
"""


@pytest.mark.parametrize("where", ["after the catalog record", "before the catalog record"])
def test_a_backup_killed_around_its_commit_leaves_a_whole_set_or_none(engine, tmp_path, home, where):
    """Found by the soak: a backup killed while verifying its set (already under its final name)
    left a complete set on disk that no catalog knew. The catalog record is now the commit point."""
    import sys

    from strongroom.core.archive import verify_set

    files = {"a.txt": os.urandom(5000), "sub/b.txt": b"b" * 100}
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", files)))
    child = subprocess.run([sys.executable, "-c", KILLED_AT, str(home), where], capture_output=True, timeout=60)
    assert child.returncode == 9, child.stderr
    folder = engine.default_target / "docs"
    assert not list(folder.glob("*.tar.zst"))  # nothing under a final name yet
    assert [p for p in folder.iterdir() if p.name.endswith(".partial")]
    sets = engine.catalog.list_sets()
    if where == "after the catalog record":
        [record] = sets
        manifest = engine.load_manifest(record)  # any reader of the set completes it
        assert Path(record.path).is_file() and verify_set(Path(record.path)).ok and manifest.set_id == record.id
        restore = engine.restore_job("docs", RestoreOptions(to=tmp_path / "out"))
        assert restore.run() == JobState.SUCCEEDED and (tmp_path / "out" / "a.txt").read_bytes() == files["a.txt"]
        from strongroom.core.engine import Engine

        [closed] = Engine(engine.paths, registry=engine.registry).orphaned_jobs  # the killed job's row
        assert closed.state == "succeeded-with-warnings" and closed.set_id == record.id
        assert "ended right after recording set" in engine.catalog.get_job(closed.id).warnings[0]
    else:
        assert sets == []
        job = engine.backup_job("docs")
        assert job.run() == JobState.SUCCEEDED
        assert any("removed 2 partial files" in line for line in job.log_lines)
        assert [p.name for p in folder.iterdir()] and len(list(folder.glob("*.tar.zst"))) == 1
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


def test_a_target_that_turns_read_only_gets_the_targets_message(tmp_path, monkeypatch):
    """Found by the soak: when the target turned read-only mid-set, removing the partial file
    failed too, and that raw error ("...partial: Read-only file system") replaced the message."""
    import errno
    import io

    from strongroom.core.archive import ArchiveError, Entry
    from strongroom.core.archive.manifest import SetInfo

    target = tmp_path / "target"
    path = target / "docs" / "set.tar.zst"
    writer = SetWriter(path, set_id="s1")
    data = os.urandom(10_000)
    entry, _ = writer.add_file(Entry(path="a", type="file", mode=0o644, mtime_ns=0, size=len(data)), io.BytesIO(data))

    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "fsync", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(ArchiveError, match=r"cannot write to the target .*Read-only file system.*make it writable"):
        writer.record(entry)
        writer.finish(SetInfo(set_id="s1", store="docs", store_type="folder", kind="full", parent=None,
                              created="2026-01-01T00:00:00Z", source="/src"))
    assert writer.left_behind  # reported, and removed by the next backup into that folder
