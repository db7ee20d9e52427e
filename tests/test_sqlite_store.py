"""SQLite stores: consistent copies under a live writer, checked and atomic restores."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from strongroom.core.jobs import BackupOptions, JobListener, JobState
from strongroom.core.restore import RestoreOptions

from .conftest import wait_until

WRITER = r"""
import sqlite3, sys, pathlib, hashlib
db, stop = sys.argv[1], pathlib.Path(sys.argv[2])
connection = sqlite3.connect(db, timeout=30, isolation_level=None)
n = connection.execute("SELECT COALESCE(MAX(id), 0) FROM rows").fetchone()[0]
while not stop.exists():
    n += 1
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO rows VALUES (?, ?)", (n, hashlib.sha256(str(n).encode()).hexdigest() * 8))
    connection.execute("UPDATE total SET n = ?", (n,))
    connection.execute("COMMIT")
"""


def make_database(path: Path, rows: int = 2000, wal: bool = True) -> Path:
    connection = sqlite3.connect(path)
    if wal:
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT)")
    connection.execute("CREATE TABLE total (n INTEGER)")
    connection.executemany("INSERT INTO rows VALUES (?, ?)", ((i, "x" * 500) for i in range(1, rows + 1)))
    connection.execute("INSERT INTO total VALUES (?)", (rows,))
    connection.commit()
    connection.close()
    return path


def check_consistent(path: Path) -> int:
    """integrity_check passes and the rows are exactly 1..n with n as recorded: a prefix of the writes."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.execute("BEGIN")  # one snapshot for both reads
        ids = [row[0] for row in connection.execute("SELECT id FROM rows ORDER BY id")]
        total = connection.execute("SELECT n FROM total").fetchone()[0]
    finally:
        connection.close()
    assert ids == list(range(1, total + 1))
    return total


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rollback-journal"])
def test_a_backup_under_a_live_writer_process_restores_a_consistent_prefix(engine, tmp_path: Path, wal) -> None:
    database = make_database(tmp_path / "app.db", wal=wal)
    engine.add_store("app", "sqlite", str(database))
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(stop)])
    try:
        start = wait_until(lambda: check_consistent(database) > 2100 and check_consistent(database))
        job = engine.backup_job("app")
        assert job.run() == JobState.SUCCEEDED, job.error
        later = wait_until(lambda: check_consistent(database) > start + 100 and check_consistent(database))
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert writer.returncode == 0
    out = tmp_path / "out"
    restore = engine.restore_job("app", RestoreOptions(to=out))
    assert restore.run() == JobState.SUCCEEDED, restore.error
    assert sorted(path.name for path in out.iterdir()) == ["app.db"]  # --to DIR gives DIR/<file name>
    restored = check_consistent(out / "app.db")
    assert start <= restored < later + 10_000


def test_the_mutex_is_given_back_once_the_copy_is_made(engine, tmp_path: Path) -> None:
    make_database(tmp_path / "app.db")
    engine.add_store("app", "sqlite", str(tmp_path / "app.db"))
    job = engine.backup_job("app")
    seen = []

    class Watch(JobListener):
        def job_log(self, job, line) -> None:
            seen.append(line)

    job.add_listener(Watch())
    assert job.run() == JobState.SUCCEEDED
    assert seen.index("released the mutex strongroom.sqlite") < seen.index("verifying the new set")


def test_restore_in_place_replaces_a_live_wal_database_safely(engine, tmp_path: Path) -> None:
    database = make_database(tmp_path / "app.db", rows=100)
    engine.add_store("app", "sqlite", str(database))
    assert engine.backup_job("app").run() == JobState.SUCCEEDED
    holder = sqlite3.connect(database)  # keeps the -wal file present, as a running program would
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("DELETE FROM rows WHERE id > 10")
    holder.execute("UPDATE total SET n = 10")
    holder.commit()
    assert (tmp_path / "app.db-wal").exists()
    job = engine.restore_job("app", RestoreOptions(overwrite="always"))
    assert job.run() == JobState.SUCCEEDED, job.error
    assert holder.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == 100  # the open connection sees it too
    holder.close()
    assert check_consistent(database) == 100


def test_restore_in_place_keeps_the_database_unless_allowed(engine, tmp_path: Path) -> None:
    database = make_database(tmp_path / "app.db", rows=50)
    engine.add_store("app", "sqlite", str(database))
    assert engine.backup_job("app").run() == JobState.SUCCEEDED
    connection = sqlite3.connect(database)
    connection.execute("DELETE FROM rows")
    connection.commit()
    connection.close()
    job = engine.restore_job("app")
    assert job.run() == JobState.WARNINGS
    assert sqlite3.connect(database).execute("SELECT COUNT(*) FROM rows").fetchone()[0] == 0
    database.unlink()
    (tmp_path / "app.db-wal").unlink(missing_ok=True)
    (tmp_path / "app.db-shm").unlink(missing_ok=True)
    assert engine.restore_job("app").run() == JobState.SUCCEEDED  # a lost database comes back
    assert check_consistent(database) == 50


def test_one_changed_row_in_a_100_mib_database_makes_an_incremental_set_under_a_mib(engine, tmp_path: Path) -> None:
    database = tmp_path / "big.db"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)")
    connection.executemany("INSERT INTO blobs VALUES (?, randomblob(100000))", ((i,) for i in range(1, 1050)))
    connection.commit()
    assert database.stat().st_size > 100 << 20
    engine.add_store("big", "sqlite", str(database))
    full = engine.backup_job("big", BackupOptions())
    assert full.run() == JobState.SUCCEEDED
    connection.execute("UPDATE blobs SET body = randomblob(3000) WHERE id = 500")
    connection.commit()
    connection.close()
    job = engine.backup_job("big", BackupOptions(incremental=True))
    assert job.run() == JobState.SUCCEEDED, job.error
    record = engine.catalog.get_set(job.set_id)
    assert record.kind == "incremental" and record.parent == full.set_id
    assert record.stored_bytes < 1 << 20, record.stored_bytes
    assert any("pages changed since set" in line for line in job.log_lines)
    out = tmp_path / "out"
    restored = engine.restore_job("big", RestoreOptions(to=out), set_id=job.set_id)
    assert restored.run() == JobState.SUCCEEDED, restored.error
    with sqlite3.connect(out / "big.db") as copy, sqlite3.connect(database) as original:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        query = "SELECT id, body FROM blobs ORDER BY id"
        assert copy.execute(query).fetchall() == original.execute(query).fetchall()


def test_a_chain_of_incrementals_under_a_live_writer_restores_each_point(engine, tmp_path: Path) -> None:
    database = make_database(tmp_path / "app.db", rows=3000)
    engine.add_store("app", "sqlite", str(database))
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(stop)])
    points = []
    try:
        for number in range(6):
            job = engine.backup_job("app", BackupOptions(incremental=number > 0))
            assert job.run() == JobState.SUCCEEDED, job.error
            points.append(job.set_id)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    records = [engine.catalog.get_set(set_id) for set_id in points]
    assert [record.kind for record in records] == ["full"] + ["incremental"] * 5
    for record in records[1:]:  # each holds only the changed pages
        (entry,) = engine.load_manifest(record).entries
        assert entry.path == "app.db.pages" and entry.delta is not None and entry.delta < entry.size / 2
    totals = []
    for number, set_id in enumerate(points):
        out = tmp_path / f"point{number}"
        job = engine.restore_job("app", RestoreOptions(to=out), set_id=set_id)
        assert job.run() == JobState.SUCCEEDED, job.error
        totals.append(check_consistent(out / "app.db"))  # integrity, and rows exactly 1..n: a prefix of the writes
    assert totals == sorted(totals) and totals[-1] > totals[0]  # each later point holds more of the writes
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".sqlite-copy", ".partial", "-journal"))]


def test_an_incremental_sqlite_set_shows_and_restores_by_the_database_name(engine, tmp_path: Path) -> None:
    from strongroom.gui.models.manifest_tree import ManifestTreeModel

    database = make_database(tmp_path / "app.db", rows=3000)
    engine.add_store("app", "sqlite", str(database))
    assert engine.backup_job("app").run() == JobState.SUCCEEDED
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE rows SET payload = 'changed' WHERE id = 7")
    job = engine.backup_job("app", BackupOptions(incremental=True))
    assert job.run() == JobState.SUCCEEDED
    model = ManifestTreeModel()
    model.set_manifest(engine.load_manifest(engine.catalog.get_set(job.set_id)))
    assert [child.name for child in model.root.children] == ["app.db"]  # the restore wizard lists the database
    restored = engine.restore_job("app", RestoreOptions(to=tmp_path / "out", paths=("app.db",)), set_id=job.set_id)
    assert restored.run() == JobState.SUCCEEDED, restored.error
    check_consistent(tmp_path / "out" / "app.db")
