"""The SQLite catalog: stores, complete backup sets and job history.

Several processes use it at once (the console, CLI runs), so it runs in WAL mode with a
busy timeout, and every operation opens its own short connection: nothing is shared
between threads, and no transaction is held while a job works.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

from ..job_state import JobState
from ..remedies import Remedy, with_fix
from .records import CatalogError, JobRecord, SetRecord, Store, check_store_name
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT = 15.0
MAX_LOG_LINES = 2000  # the last lines of a job's log kept in its history row
JSON_FIELDS = ("warnings", "log", "holds", "excluded")  # job fields stored as JSON text
UNFINISHED = tuple(state.value for state in JobState if not state.terminal)


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Catalog:
    """Opens (creating and migrating as needed) the catalog at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogError(f"cannot create the data folder {path.parent} ({error.strerror}): "
                               "check its permissions or use --home DIR") from None
        self._check_regular()
        self._migrate()

    def _check_regular(self) -> None:
        """The catalog is a regular file or not there yet: SQLite would follow a planted link and block on a FIFO."""
        try:
            kind = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise CatalogError(f"cannot open the catalog {self.path} ({error.strerror}): check the data folder") \
                from None
        if not stat.S_ISREG(kind):
            what = "a link" if stat.S_ISLNK(kind) else "a FIFO" if stat.S_ISFIFO(kind) else "not a regular file"
            raise CatalogError(f"the catalog {self.path} is {what}, not a catalog file: someone put it there — "
                               "remove it and restore the catalog from a copy, or use --home DIR")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as error:
            raise CatalogError(f"cannot open the catalog {self.path} ({error}): check the data folder") from None
        try:
            connection.row_factory = sqlite3.Row
            yield connection
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.IntegrityError):
                raise
            raise CatalogError(f"the catalog {self.path} failed: {error}") from None
        finally:
            connection.close()

    def _migrate(self) -> None:
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CatalogError(f"the catalog {self.path} was written by a newer Strongroom (schema {version}, "
                                   f"this one knows {SCHEMA_VERSION}): upgrade Strongroom")
            if version == SCHEMA_VERSION:
                return
            connection.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                for number in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[number].split(";"):
                        if statement.strip():
                            connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    # -- stores ---------------------------------------------------------------------------

    def add_store(self, name: str, store_type: str, path: str) -> Store:
        check_store_name(name)
        store = Store(name, store_type, path, now_text())
        with self.connect() as connection:
            try:
                connection.execute("INSERT INTO stores VALUES (?, ?, ?, ?)",
                                   (store.name, store.type, store.path, store.created))
            except sqlite3.IntegrityError:
                existing = self.get_store(name)
                raise with_fix(CatalogError(f"a store called {name!r} already exists ({existing.type} at "
                                            f"{existing.path})"), Remedy.REMOVE_STORE_FIRST, name=name) from None
        return store

    def get_store(self, name: str) -> Store:
        with self.connect() as connection:
            row = connection.execute("SELECT * FROM stores WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(store.name for store in self.list_stores()) or "none yet"
            raise with_fix(CatalogError(f"there is no store called {name!r} (stores: {known})"), Remedy.ADD_STORE)
        return Store(**dict(row))

    def list_stores(self) -> list[Store]:
        with self.connect() as connection:
            return [Store(**dict(row)) for row in connection.execute("SELECT * FROM stores ORDER BY name")]

    def update_store(self, name: str, path: str) -> Store:
        """Point a store at a new path (its type and sets stay)."""
        store = self.get_store(name)
        with self.connect() as connection:
            connection.execute("UPDATE stores SET path = ? WHERE name = ?", (path, name))
        return Store(store.name, store.type, path, store.created)

    def store_excludes(self, name: str) -> dict | None:
        """A store's exclude rules as saved (a JSON document), or None when it has none."""
        return self._store_document("store_excludes", "rules", name)

    def set_store_excludes(self, name: str, rules: dict | None) -> None:
        self._set_store_document("store_excludes", "rules", name, rules)

    # One JSON document per store in a table of its own (exclude rules, retention policy); the table and
    # column names are this module's own constants, never input.
    def _store_document(self, table: str, column: str, name: str) -> dict | None:
        with self.connect() as connection:
            row = connection.execute(f"SELECT {column} FROM {table} WHERE store = ?", (name,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[column])
        except ValueError:
            return {"damaged": True}  # the reader's from_document names it as damaged

    def _set_store_document(self, table: str, column: str, name: str, document: dict | None) -> None:
        self.get_store(name)
        with self.connect() as connection:
            if document is None:
                connection.execute(f"DELETE FROM {table} WHERE store = ?", (name,))
            else:
                connection.execute(f"INSERT INTO {table} VALUES (?, ?) ON CONFLICT(store) DO UPDATE SET "
                                   f"{column} = excluded.{column}", (name, json.dumps(document)))

    def remove_store(self, name: str) -> Store:
        """Forget a store; its sets stay on disk and in the catalog."""
        store = self.get_store(name)
        with self.connect() as connection:
            connection.execute("DELETE FROM stores WHERE name = ?", (name,))
            connection.execute("DELETE FROM store_excludes WHERE store = ?", (name,))
            connection.execute("DELETE FROM store_retention WHERE store = ?", (name,))
            connection.execute("DELETE FROM store_health WHERE store = ?", (name,))
        return store

    # -- sets -----------------------------------------------------------------------------

    def add_set(self, record: SetRecord, job_id: str | None = None) -> None:
        """Record a complete set, and in the same transaction which job made it."""
        names = [f.name for f in fields(SetRecord)]
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(f"INSERT INTO sets ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                   [getattr(record, name) for name in names])
                if job_id is not None:
                    connection.execute("UPDATE jobs SET set_id = ? WHERE id = ?", (record.id, job_id))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def get_set(self, set_id: str) -> SetRecord:
        with self.connect() as connection:
            row = connection.execute("SELECT * FROM sets WHERE id = ?", (set_id,)).fetchone()
        if row is None:
            raise with_fix(CatalogError(f"there is no backup set {set_id!r}"), Remedy.LIST_SETS)
        return SetRecord(**dict(row))

    def set_at(self, path: str) -> SetRecord | None:
        """The set whose file is ``path``, if the catalog has one."""
        with self.connect() as connection:
            row = connection.execute("SELECT * FROM sets WHERE path = ?", (path,)).fetchone()
        return SetRecord(**dict(row)) if row is not None else None

    def _has_set(self, set_id: str) -> bool:
        with self.connect() as connection:
            return connection.execute("SELECT 1 FROM sets WHERE id = ?", (set_id,)).fetchone() is not None

    def remove_set(self, set_id: str) -> None:
        """Forget a set (a backup whose set could not be given its final name takes its record back)."""
        with self.connect() as connection:
            connection.execute("DELETE FROM sets WHERE id = ?", (set_id,))

    def list_sets(self, store: str | None = None) -> list[SetRecord]:
        query = "SELECT * FROM sets" + (" WHERE store = ?" if store else "") + " ORDER BY created, id"
        with self.connect() as connection:
            return [SetRecord(**dict(row)) for row in connection.execute(query, (store,) if store else ())]

    def latest_set(self, store: str) -> SetRecord:
        sets = self.list_sets(store)
        if not sets:
            raise with_fix(CatalogError(f"store {store!r} has no backup set yet"), Remedy.BACK_UP_FIRST, store=store)
        return sets[-1]

    def mark_verified(self, set_id: str, when: str | None = None) -> None:
        with self.connect() as connection:
            connection.execute("UPDATE sets SET verified = ?, damaged = NULL WHERE id = ?", (when or now_text(), set_id))

    def mark_damaged(self, set_id: str, reason: str) -> None:
        with self.connect() as connection:
            connection.execute("UPDATE sets SET damaged = ? WHERE id = ?", (f"{now_text()}: {reason}"[:2000], set_id))

    def damaged_in_chain(self, record: SetRecord) -> SetRecord | None:
        """The set whose last verify failed among ``record`` and the sets it stands on (None: none did)."""
        seen = set()
        while record is not None and record.id not in seen:
            if record.damaged:
                return record
            seen.add(record.id)
            try:
                record = self.get_set(record.parent) if record.parent else None
            except CatalogError:
                return None  # a missing parent gets its own message when the set is read
        return None

    def remove_sets(self, records: list[SetRecord], files: dict[str, list[str]]) -> None:
        """Forget sets and note their files as to be deleted, in one transaction (the commit point of a
        deletion: no record is left pointing at a file that is gone, and no file is forgotten)."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for record in records:
                    connection.execute("DELETE FROM sets WHERE id = ?", (record.id,))
                    for path in files[record.id]:
                        connection.execute("INSERT OR REPLACE INTO pending_deletions VALUES (?, ?, ?)",
                                           (path, record.id, now_text()))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def pending_deletions(self, folder: str | None = None) -> list[str]:
        """Files of removed sets still to delete (all, or those in ``folder``)."""
        with self.connect() as connection:
            rows = connection.execute("SELECT path FROM pending_deletions ORDER BY path").fetchall()
        paths = [row["path"] for row in rows]
        return [path for path in paths if folder is None or os.path.dirname(path) == folder]

    def deletion_done(self, path: str) -> None:
        with self.connect() as connection:
            connection.execute("DELETE FROM pending_deletions WHERE path = ?", (path,))

    def set_plans(self) -> dict[str, str]:
        """Set id -> the plan whose job made it (sets made by hand are not in it)."""
        with self.connect() as connection:
            rows = connection.execute("SELECT set_id, plan FROM jobs WHERE set_id IS NOT NULL AND plan IS NOT NULL")
            return {row["set_id"]: row["plan"] for row in rows}

    def store_ages(self, name: str) -> tuple[str | None, str | None]:
        """A store's own (warn after, critical after) durations for ``status``; (None, None) when unset."""
        with self.connect() as connection:
            row = connection.execute("SELECT warn_after, critical_after FROM store_health WHERE store = ?",
                                     (name,)).fetchone()
        return (row["warn_after"], row["critical_after"]) if row is not None else (None, None)

    def set_store_ages(self, name: str, warn_after: str | None, critical_after: str | None) -> None:
        self.get_store(name)
        with self.connect() as connection:
            connection.execute("INSERT INTO store_health VALUES (?, ?, ?) ON CONFLICT(store) DO UPDATE SET "
                               "warn_after = excluded.warn_after, critical_after = excluded.critical_after",
                               (name, warn_after, critical_after))

    def store_retention(self, name: str) -> dict | None:
        return self._store_document("store_retention", "policy", name)

    def set_store_retention(self, name: str, policy: dict | None) -> None:
        self._set_store_document("store_retention", "policy", name, policy)

    # -- jobs -----------------------------------------------------------------------------

    def save_job(self, job: JobRecord) -> None:
        """Insert or update a job's history row."""
        values = job.public_dict()
        values["log"] = values["log"][-MAX_LOG_LINES:]
        for name in JSON_FIELDS:
            values[name] = json.dumps(values[name])
        names = list(values)
        with self.connect() as connection:
            connection.execute(
                f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{name} = excluded.{name}' for name in names[1:])}",
                [values[name] for name in names])

    def list_jobs(self, limit: int = 200) -> list[JobRecord]:
        """The newest jobs, without their logs (``get_job`` has a job's log)."""
        columns = ", ".join(f.name for f in fields(JobRecord) if f.name != "log")
        with self.connect() as connection:
            rows = connection.execute(f"SELECT {columns}, '[]' AS log FROM jobs ORDER BY created DESC, id DESC "
                                      "LIMIT ?", (limit,))
            return [_job(row) for row in rows]

    def get_job(self, job_id: str) -> JobRecord:
        with self.connect() as connection:
            row = connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise with_fix(CatalogError(f"there is no job {job_id!r}"), Remedy.LIST_JOBS)
        return _job(row)

    def close_orphaned_jobs(self, ended: Callable[[JobRecord], bool]) -> list[JobRecord]:
        """Mark unfinished jobs whose process has ended (``ended(record)``) as failed; return them.

        A process killed in the middle of a job cannot write its final state; without
        this, its job would show as running for ever.
        """
        with self.connect() as connection:
            rows = connection.execute(f"SELECT id FROM jobs WHERE state IN ({', '.join('?' * len(UNFINISHED))})",
                                      UNFINISHED).fetchall()
        closed = []
        for (job_id,) in rows:
            record = self.get_job(job_id)
            if record.pid is None or not ended(record):
                continue
            if record.operation == "backup" and record.set_id and self._has_set(record.set_id):
                record.warnings.append(f"the process that ran this job (pid {record.pid} on {record.host}) ended right "
                                       f"after recording set {record.set_id}: the set is complete and verified")
                with self.connect() as connection:
                    connection.execute("UPDATE jobs SET state = 'succeeded-with-warnings', warnings = ?, finished = ? "
                                       "WHERE id = ?", (json.dumps(record.warnings), now_text(), job_id))
                record.state = "succeeded-with-warnings"
                closed.append(record)
                continue
            record.error = (f"the process that ran this job (pid {record.pid} on {record.host}) ended while the job "
                            f"was {record.state} — killed or crashed; a backup left no set, a restore may have put "
                            "some files in place")
            with self.connect() as connection:
                connection.execute(f"UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ? AND "
                                   f"state IN ({', '.join('?' * len(UNFINISHED))})",
                                   (JobState.FAILED.value, record.error, now_text(), job_id, *UNFINISHED))
            record.state = JobState.FAILED.value
            closed.append(record)
        return closed

    def integrity_check(self) -> str:
        with self.connect() as connection:
            return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _job(row: sqlite3.Row) -> JobRecord:
    values = dict(row)
    for name in JSON_FIELDS:
        values[name] = json.loads(values[name])
    return JobRecord(**values)
