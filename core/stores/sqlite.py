"""The sqlite store type: one SQLite database file, copied with SQLite's online backup API.

The backup API gives a consistent copy even while other processes keep writing, so the
store's mutex is held only while that copy is made; the copy is checked, then archived.
A restore writes a new file, checks it with ``PRAGMA integrity_check`` and only then
replaces the target: with ``os.replace`` when the target has no journal beside it, else
through the backup API into the target, so that a live WAL or journal of the old
database can never be replayed onto the new one.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from ..archive import IN_MEMORY, Entry
from ..archive.page_delta import DELTA_SUFFIX, changed_pages, delta_records, delta_size, logical_path, page_hashes
from . import register_driver
from ..leftovers import partial_name
from ..remedies import Remedy, with_fix
from .base import RestoreSpot, SnapshotSession, StoreDriver, StoreError, missing_path_error, place

SQLITE_HEADER = b"SQLite format 3\0"
BUSY_TIMEOUT = 30.0
_JOURNALS = ("-wal", "-journal")
_SIDE_FILES = ("-wal", "-journal", "-shm")


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)


def integrity_problem(path: Path) -> str | None:
    """None if our own copy at ``path`` passes ``PRAGMA integrity_check``, else what it says.

    Opened read-write (never a store, only our copies) so that closing it removes any
    WAL and shared-memory files it made.
    """
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return str(error)
    result = "; ".join(str(row[0]) for row in rows)
    return None if result == "ok" else result


class SqliteDriver(StoreDriver):
    type_name = "sqlite"
    location_kind = "file"
    hint = "A SQLite database file: copied consistently while applications keep using it."
    file_filter = "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)"
    named_temporary = True  # the restored copy is checked with SQLite, which opens it by name
    incremental = True  # the pages changed since the parent set (archive/page_delta.py)
    description = "a SQLite database file, copied consistently with the online backup API"

    def check_path(self, path: str) -> Path:
        absolute = Path(path).expanduser().absolute()
        if not absolute.exists():
            raise missing_path_error(str(absolute), "a SQLite database file")
        if absolute.is_dir():
            raise with_fix(StoreError(f"the store path {absolute} is a folder, not a SQLite database: give the "
                                      "database file"), Remedy.OTHER_STORE_TYPE, type="folder", what="a folder")
        try:
            with open(absolute, "rb") as database:
                header = database.read(len(SQLITE_HEADER))
        except OSError as error:
            raise StoreError(f"the database {absolute} cannot be read ({error.strerror}): "
                             "give this user read access to it") from None
        if header != SQLITE_HEADER:
            raise with_fix(StoreError(f"{absolute} is not a SQLite database (its header is wrong): give a SQLite "
                                      "database file"), Remedy.OTHER_STORE_TYPE, type="folder", what="a folder")
        return absolute

    def snapshot(self, path: Path, session: SnapshotSession) -> None:
        source_status = path.stat()
        copy = partial_name(session.scratch / f"{path.name}.{id(session)}.sqlite-copy")
        try:
            self._copy(path, copy)
            session.release_store()  # the copy is consistent; the store is no longer touched
            problem = integrity_problem(copy)
            if problem:
                raise StoreError(f"the copy of {path} fails SQLite's integrity check ({problem}): the database "
                                 "itself may be damaged — run 'PRAGMA integrity_check' on it")
            with open(copy, "rb", buffering=0) as source:
                stored = self._store(path, source, source_status, session)
            session.add(stored)
            session.file_done(path.name)
        finally:
            for leftover in (copy, *(copy.with_name(copy.name + suffix) for suffix in _SIDE_FILES)):
                try:
                    leftover.unlink(missing_ok=True)
                except OSError:
                    pass  # a target turned read-only: the next backup there removes it (leftovers.py)

    def _store(self, path: Path, source, status: os.stat_result, session: SnapshotSession) -> Entry:
        """The copy into the set: whole, or (in an incremental set) only the pages changed since the parent's."""
        size = os.fstat(source.fileno()).st_size
        page_size = _page_size(os.pread(source.fileno(), 100, 0))

        def read_at(offset: int, length: int) -> bytes:
            return os.pread(source.fileno(), length, offset)

        hashes = page_hashes(read_at, size, page_size)
        entry = Entry(path=path.name, type="file", mode=stat.S_IMODE(status.st_mode), mtime_ns=status.st_mtime_ns,
                      size=size, uid=status.st_uid, gid=status.st_gid, ino=status.st_ino, ctime_ns=status.st_ctime_ns,
                      pages=(page_size, hashes))
        earlier = _earlier_state(session.parent, path.name)
        if earlier is not None and earlier.pages is not None and earlier.pages[0] == page_size:
            changed = changed_pages(hashes, earlier.pages[1])
            stored = delta_size(changed, page_size)
            if stored < size // 2:  # else a full copy is as small, and needs no chain to restore
                session.set_totals(1, stored)
                entry = replace(entry, path=path.name + DELTA_SUFFIX, delta=stored)
                records = delta_records(read_at, changed, page_size)
                if stored <= IN_MEMORY:
                    result = session.writer.add_bytes(entry, b"".join(records))
                    session.advance(stored)
                else:
                    result, _ = session.writer.add_stream(entry, _counted(records, session))
                session.log(f"{path.name}: {len(changed)} of {size // page_size} pages changed since set "
                            f"{session.parent.set_id}; only those are in this set")
                return result
        session.set_totals(1, size)
        source.seek(0)
        result, _ = session.writer.add_file(entry, source, session.advance)
        return result

    def _copy(self, path: Path, copy: Path) -> None:
        try:
            source = _open_read_only(path)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the database {path} ({error}): check that it is readable") from None
        try:
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # one step: a consistent snapshot, even under concurrent writers
            finally:
                target.close()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot copy the database {path} ({error}): it may be damaged or locked for too "
                             "long by another program") from None
        finally:
            source.close()

    def restore_root(self, store_path: Path, to: Path | None) -> Path:
        return to if to is not None else store_path.parent

    def landing(self, root: Path, store_path: Path, entry: Entry) -> str:
        return logical_path(entry) if root != store_path.parent else store_path.name

    def check_restored(self, spot: RestoreSpot, entry: Entry) -> None:
        problem = integrity_problem(spot.path(spot.temporary))
        if problem:
            raise StoreError(f"the restored database {entry.path} fails SQLite's integrity check ({problem}); "
                             "the target was left untouched")

    def install(self, spot: RestoreSpot) -> None:
        temporary, destination = spot.path(spot.temporary), spot.path(spot.name)
        if spot.replace and any(destination.with_name(destination.name + suffix).exists() for suffix in _JOURNALS):
            try:
                source = _open_read_only(temporary)
                target = sqlite3.connect(destination, timeout=BUSY_TIMEOUT)
                try:
                    source.backup(target)
                finally:
                    target.close()
                    source.close()
            except sqlite3.DatabaseError as error:
                raise StoreError(f"cannot write the restored database into {spot.shown} ({error}): close the "
                                 "programs that use it and restore again") from None
            finally:
                temporary.unlink(missing_ok=True)
            return
        place(spot)


def _page_size(header: bytes) -> int:
    """The page size a SQLite header gives (bytes 16-17, big-endian; 1 means 65536)."""
    value = int.from_bytes(header[16:18], "big")
    return 65536 if value == 1 else value


def _earlier_state(parent, name: str) -> Entry | None:
    if parent is None:
        return None
    return next((entry for entry in parent.entries if logical_path(entry) == name), None)


def _counted(records, session: SnapshotSession):
    for record in records:
        session.advance(len(record))
        yield record


register_driver(SqliteDriver())
