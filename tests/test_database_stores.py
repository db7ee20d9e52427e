"""PostgreSQL and MariaDB stores against real throwaway servers: dumps, restores, refusals, live writers.

Every test runs once per server type. The oracle is the server's own client: rows and
objects are listed with plain SQL on the original and on the restored database.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from strongroom.core.jobs import JobListener, JobState
from strongroom.core.restore import RestoreOptions

from .conftest import cli, wait_until
from .db_servers import PASSWORD, Server

pytestmark = pytest.mark.timeout(300)

KINDS = ("postgresql", "mariadb")


@pytest.fixture(params=KINDS)
def server(request) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


def new_name(prefix: str = "app") -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def make_database(server: Server, rows: int = 500, note_size: int = 40) -> str:
    """A database with two tables that must agree, a view, and (MariaDB) a trigger and a procedure."""
    name = new_name()
    server.create_database(name)
    if server.kind == "postgresql":
        server.sql(f"""
            CREATE TABLE orders (id integer PRIMARY KEY, amount integer NOT NULL, note text);
            CREATE TABLE ledger (id integer PRIMARY KEY, amount integer NOT NULL);
            CREATE VIEW totals AS SELECT count(*) AS n, sum(amount) AS amount FROM orders;
            CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS 'SELECT 2 * x';
            INSERT INTO orders SELECT g, g * 7, repeat(md5(g::text), {max(1, note_size // 32)}) FROM generate_series(1, {rows}) g;
            INSERT INTO ledger SELECT g, g * 7 FROM generate_series(1, {rows}) g;
        """, name)
    else:
        server.sql(f"""
            CREATE TABLE orders (id INT PRIMARY KEY, amount INT NOT NULL, note LONGTEXT) ENGINE=InnoDB;
            CREATE TABLE ledger (id INT PRIMARY KEY, amount INT NOT NULL) ENGINE=InnoDB;
            CREATE TABLE audit (id INT PRIMARY KEY) ENGINE=InnoDB;
            CREATE VIEW totals AS SELECT count(*) AS n, sum(amount) AS amount FROM orders;
            CREATE TRIGGER audited AFTER INSERT ON ledger FOR EACH ROW INSERT INTO audit VALUES (NEW.id);
            CREATE PROCEDURE double_it(IN x INT) SELECT 2 * x;
            INSERT INTO orders SELECT seq, seq * 7, REPEAT(MD5(seq), {max(1, note_size // 32)}) FROM seq_1_to_{rows};
            INSERT INTO ledger SELECT seq, seq * 7 FROM seq_1_to_{rows};
        """, name)
    return name


def contents(server: Server, database: str) -> dict[str, str]:
    """What the database holds, as the server lists it: rows of each table, its objects."""
    found = {"orders": server.sql("SELECT id, amount, md5(note) FROM orders ORDER BY id", database),
             "ledger": server.sql("SELECT id, amount FROM ledger ORDER BY id", database),
             "totals": server.sql("SELECT n, amount FROM totals", database)}
    if server.kind == "postgresql":
        found["objects"] = server.sql("SELECT table_name, table_type FROM information_schema.tables WHERE "
                                      "table_schema = 'public' ORDER BY 1", database)
        found["functions"] = server.sql("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
                                        database)
    else:
        found["objects"] = server.sql("SELECT table_name, table_type FROM information_schema.tables WHERE "
                                      "table_schema = DATABASE() ORDER BY 1", database)
        found["audit"] = server.sql("SELECT id FROM audit ORDER BY id", database)
        found["triggers"] = server.sql("SELECT trigger_name FROM information_schema.triggers WHERE "
                                       "trigger_schema = DATABASE()", database)
        found["routines"] = server.sql("SELECT routine_name FROM information_schema.routines WHERE "
                                       "routine_schema = DATABASE()", database)
    return found


def add_store(engine, server: Server, database: str, name: str | None = None) -> str:
    name = name or database
    engine.add_store(name, server.kind, server.url(database))
    return name


def test_a_database_restored_into_a_new_database_holds_the_same_rows_and_objects(engine, server) -> None:
    database = make_database(server)
    store = add_store(engine, server, database)
    backup = engine.backup_job(store)
    assert backup.run() == JobState.SUCCEEDED, backup.error
    info = json.loads(_member(engine, backup.set_id, "server.json"))
    assert info["server"].startswith("PostgreSQL" if server.kind == "postgresql" else "MariaDB")
    assert info["server_version"] and info["dump_tool"] and info["database"] == database
    before = server.databases()
    copy = new_name("copy")
    restore = engine.restore_job(store, RestoreOptions(to_database=copy))
    assert restore.run() == JobState.SUCCEEDED, restore.error
    assert contents(server, copy) == contents(server, database)
    assert server.databases() == before | {copy}  # no scratch database is left behind


def test_a_dump_streamed_in_many_parts_restores_the_same_rows(engine, server, monkeypatch) -> None:
    from strongroom.core.stores import dump_parts

    monkeypatch.setattr(dump_parts, "PART_BYTES", 10_000)  # the 16 MiB parts of a real dump, scaled down
    database = make_database(server, rows=400, note_size=200)
    store = add_store(engine, server, database)
    backup = engine.backup_job(store)
    assert backup.run() == JobState.SUCCEEDED, backup.error
    info = json.loads(_member(engine, backup.set_id, "server.json"))
    parts = [entry for entry in engine.manifest_for(backup.set_id).entries if entry.path.startswith("dump/")
             and entry.type == "file"]
    assert info["parts"] == len(parts) > 5
    assert all(entry.size == 10_000 for entry in parts[:-1]) and 0 < parts[-1].size <= 10_000
    assert sum(entry.size for entry in parts) == info["dump_bytes"]
    copy = new_name("copy")
    restore = engine.restore_job(store, RestoreOptions(to_database=copy))
    assert restore.run() == JobState.SUCCEEDED, restore.error
    assert contents(server, copy) == contents(server, database)


def test_restore_refuses_an_existing_database_under_never_and_leaves_it_untouched(engine, server) -> None:
    database = make_database(server, rows=20)
    store = add_store(engine, server, database)
    assert engine.backup_job(store).run() == JobState.SUCCEEDED
    server.sql("DELETE FROM ledger WHERE id > 10", database)
    changed = contents(server, database)
    job = engine.restore_job(store)
    assert job.run() == JobState.FAILED
    assert job.error == (f"the database {database!r} already exists on 127.0.0.1:{server.port} and the overwrite "
                         "policy is 'never': restore into a new database, or choose 'always' to replace it")
    assert contents(server, database) == changed


def test_restore_always_replaces_the_database_only_after_loading_the_dump(engine, server) -> None:
    database = make_database(server, rows=50)
    store = add_store(engine, server, database)
    original = contents(server, database)
    assert engine.backup_job(store).run() == JobState.SUCCEEDED
    server.sql("DELETE FROM orders WHERE id > 5", database)
    server.sql("CREATE TABLE stray (x integer)", database)
    before = server.databases()
    job = engine.restore_job(store, RestoreOptions(overwrite="always"))
    assert job.run() == JobState.SUCCEEDED, job.error
    assert contents(server, database) == original
    assert server.databases() == before


def test_if_older_is_refused_for_a_database_with_a_clear_message(engine, server) -> None:
    database = make_database(server, rows=5)
    store = add_store(engine, server, database)
    assert engine.backup_job(store).run() == JobState.SUCCEEDED
    job = engine.restore_job(store, RestoreOptions(overwrite="if-older", to_database=new_name()))
    assert job.run() == JobState.FAILED
    assert job.error == ("'if-older' compares file times, which a database does not have: restore with overwrite "
                         "'never' (into a new database) or 'always' (replace it)")


def test_a_cancelled_restore_leaves_no_database_behind(engine, server) -> None:
    database = make_database(server, rows=3000, note_size=2000)
    store = add_store(engine, server, database)
    assert engine.backup_job(store).run() == JobState.SUCCEEDED
    before = server.databases()

    class CancelOnceLoading(JobListener):
        def job_progress(self, job, progress) -> None:
            if progress.bytes_done:
                job.cancel()

    job = engine.restore_job(store, RestoreOptions(to_database=new_name("cancelled")))
    job.add_listener(CancelOnceLoading())
    assert job.run() == JobState.CANCELLED
    assert server.databases() == before


def test_a_load_that_fails_half_way_leaves_no_half_loaded_database(engine, server) -> None:
    database = make_database(server, rows=30)
    store = add_store(engine, server, database)
    if server.kind == "postgresql":  # the dump gives a table to a role this server no longer has
        role = new_name("owner")
        server.sql(f"CREATE ROLE {role}; ALTER TABLE ledger OWNER TO {role};", database)
        assert engine.backup_job(store).run() == JobState.SUCCEEDED
        server.sql(f"REASSIGN OWNED BY {role} TO {server.superuser}; DROP OWNED BY {role}; ", database)
        server.sql(f"DROP ROLE {role}")
    else:  # a row larger than the server now accepts in one statement
        server.sql(f"INSERT INTO orders VALUES (100000, 1, REPEAT('x', {3 << 20}))", database)
        assert engine.backup_job(store).run() == JobState.SUCCEEDED
        server.sql("SET GLOBAL max_allowed_packet = 1048576")
    before = server.databases()
    try:
        job = engine.restore_job(store, RestoreOptions(to_database=new_name("failed")))
        assert job.run() == JobState.FAILED
    finally:
        if server.kind == "mariadb":
            server.sql("SET GLOBAL max_allowed_packet = 16777216")
    assert "could not load the dump" in job.error
    assert server.databases() == before


def test_a_backup_under_live_writes_restores_a_prefix_in_which_both_tables_agree(engine, server) -> None:
    database = make_database(server, rows=20000, note_size=300)
    store = add_store(engine, server, database)
    writer = Writer(server, database, start=20001)
    writer.start()
    try:
        wait_until(lambda: writer.committed() > 20050, timeout=60)
        before = writer.committed()
        job = engine.backup_job(store)
        assert job.run() == JobState.SUCCEEDED, job.error
        after = writer.committed()
    finally:
        writer.stop()
    assert after > before  # the writer went on writing all through the backup
    copy = new_name("live")
    assert engine.restore_job(store, RestoreOptions(to_database=copy)).run() == JobState.SUCCEEDED
    orders = [int(line.split("\t")[0]) for line in server.sql("SELECT id FROM orders ORDER BY id", copy).split()]
    ledger = [int(line.split("\t")[0]) for line in server.sql("SELECT id FROM ledger ORDER BY id", copy).split()]
    assert orders == ledger == list(range(1, len(orders) + 1))  # a prefix of the transactions, both tables alike
    assert before <= len(orders) <= after


class Writer:
    """A client process that commits one transaction after another, each writing a row in both tables."""

    def __init__(self, server: Server, database: str, start: int) -> None:
        self.server, self.database, self.next = server, database, start
        self.process = subprocess.Popen([*server.client, server.database_flag(database)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _write(self) -> None:
        note = "n" * 300
        while not self._stop.is_set():
            n = self.next
            self.process.stdin.write(f"BEGIN; INSERT INTO orders VALUES ({n}, {n * 7}, '{note}'); "
                                     f"INSERT INTO ledger VALUES ({n}, {n * 7}); COMMIT;\n")
            self.process.stdin.flush()
            self.next += 1

    def committed(self) -> int:
        return int(self.server.sql("SELECT count(*) FROM ledger", self.database).strip())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _member(engine, set_id: str, path: str) -> bytes:
    from strongroom.core.stores.database_driver import DumpContents

    with engine.open_set(set_id) as reader:
        dump = DumpContents(reader, reader.manifest)
        return reader.read_file(dump.named(path))


def test_the_password_appears_nowhere_strongroom_writes(engine, server, home: Path) -> None:
    database = make_database(server, rows=10)
    store = add_store(engine, server, database)
    job = engine.backup_job(store)
    assert job.run() == JobState.SUCCEEDED
    assert engine.restore_job(store, RestoreOptions(to_database=new_name())).run() == JobState.SUCCEEDED
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    for path in Path(engine.default_target).rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("damage", ["cut short", "a part missing"])
def test_verify_finds_a_dump_that_is_not_whole_without_any_server(engine, server, home: Path, tmp_path: Path,
                                                                   damage: str) -> None:
    database = make_database(server, rows=10)
    store = add_store(engine, server, database)
    job = engine.backup_job(store)
    assert job.run() == JobState.SUCCEEDED
    record = engine.catalog.get_set(job.set_id)
    intact = cli(home, "verify", job.set_id, env={**os.environ, "PATH": "/nonexistent" if server.kind == "mariadb"
                                                  else os.environ["PATH"]})
    assert intact.returncode == 0, intact.stderr
    copy = tmp_path / Path(record.path).name
    shutil.copy(record.path, copy)
    dump = "dump/dump.custom.000000" if server.kind == "postgresql" else "dump/dump.sql.000000"

    def change(files: dict[str, bytes]) -> None:
        info = json.loads(files["server.json"])
        if damage == "cut short":  # each member matches its checksum and server.json agrees: only the dump can tell
            files[dump] = files[dump][: len(files[dump]) * 2 // 3]
            info["dump_bytes"] = len(files[dump])
        else:
            info["parts"] += 1
        files["server.json"] = json.dumps(info).encode()

    _forge(copy, change)
    if damage == "a part missing":
        expected = f"the dump is not whole: part {dump[:-1]}1 of 2 is missing"
    elif server.kind == "postgresql":
        expected = "pg_restore cannot read the dump"
    else:
        expected = "does not end with mariadb-dump's 'Dump completed' line"
    result = cli(home, "verify", "--untrusted", str(copy))
    assert result.returncode != 0 and expected in result.stdout + result.stderr, result.stdout + result.stderr


def _forge(path: Path, change) -> None:
    """Write the set at ``path`` anew with its files changed by ``change`` (what a hostile target could hold):
    every member then matches its own checksum, so only a check of the dump's structure can tell."""
    from strongroom.core.archive import SetReader, SetWriter
    from strongroom.core.archive.entry import new_entry
    from strongroom.core.archive.manifest import SetInfo

    with SetReader(path) as reader:
        manifest = reader.manifest
        files = {entry.path: reader.read_file(entry) for entry in manifest.entries if entry.type == "file"}
    change(files)
    path.unlink()
    with SetWriter(path, set_id=manifest.set_id) as writer:
        if any(name.startswith("dump/") for name in files):
            writer.record(writer.add_bodiless(new_entry(path="dump", type="dir", mode=0o700, mtime_ns=0)))
        for name in sorted(files):
            data = files[name]
            writer.record(writer.add_bytes(new_entry(path=name, type="file", mode=0o600, mtime_ns=0,
                                                     size=len(data)), data))
        writer.finish(SetInfo(set_id=manifest.set_id, store=manifest.store, store_type=manifest.store_type,
                              kind="full", parent=None, created=manifest.created, source=manifest.source,
                              compression_level=3, notes=()))


def test_a_deep_verify_loads_the_set_into_a_throwaway_database_checks_it_and_drops_it(engine, server) -> None:
    database = make_database(server, rows=100)
    store = add_store(engine, server, database)
    backup = engine.backup_job(store)
    assert backup.run() == JobState.SUCCEEDED
    before = server.databases()
    job = engine.verify_job(backup.set_id, deep="")
    assert job.run() == JobState.SUCCEEDED, job.error
    assert any("loaded into a throwaway database" in line and "checked there: sound" in line for line in job.log_lines)
    assert server.databases() == before


def test_a_deep_verify_against_a_server_that_is_down_fails_without_calling_the_set_damaged(engine, server) -> None:
    from .db_servers import free_port

    database = make_database(server, rows=5)
    store = add_store(engine, server, database)
    backup = engine.backup_job(store)
    assert backup.run() == JobState.SUCCEEDED
    down = f"{server.kind}://{server.superuser}@127.0.0.1:{free_port()}/x"
    job = engine.verify_job(backup.set_id, deep=down)
    assert job.run() == JobState.FAILED
    assert job.error.startswith(f"the {'PostgreSQL' if server.kind == 'postgresql' else 'MariaDB'} server at "
                                "127.0.0.1:") and "is not answering" in job.error
    assert not engine.catalog.get_set(backup.set_id).damaged
