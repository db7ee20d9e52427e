"""The folder store type: a directory tree of files, folders and symbolic links.

Links are stored as links and never followed. Sockets, FIFOs and devices are skipped
with a warning, as are files that cannot be read or vanish; a file whose size or mtime
changes while it is read is kept but flagged. An incremental set re-reads only files
whose size, mtime, inode or ctime differ from the parent's record.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..archive import MANIFEST_MEMBER, Entry
from ..archive.writer import SMALL_FILE
from . import register_driver
from .base import SnapshotSession, StoreDriver, StoreError, StoreSummary, missing_path_error

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class _Item:
    path: str
    kind: str
    status: os.stat_result


def _entry(item: _Item, status: os.stat_result | None = None, target: str | None = None) -> Entry:
    status = status or item.status
    return Entry(path=item.path, type=item.kind, mode=stat.S_IMODE(status.st_mode), mtime_ns=status.st_mtime_ns,
                 size=status.st_size if item.kind == "file" else 0, target=target, uid=status.st_uid,
                 gid=status.st_gid, ino=status.st_ino, ctime_ns=status.st_ctime_ns)


class FolderDriver(StoreDriver):
    type_name = "folder"
    description = "a directory tree: files, folders, links, permissions and times"
    incremental = True

    def check_path(self, path: str) -> Path:
        absolute = Path(path).expanduser().absolute()
        if not absolute.exists():
            raise missing_path_error(str(absolute), "a folder")
        if not absolute.is_dir():
            raise StoreError(f"the store path {absolute} is a file, not a folder: give the folder that holds the "
                             "files, or use --type sqlite for a SQLite database")
        if not os.access(absolute, os.R_OK | os.X_OK):
            raise StoreError(f"the folder {absolute} cannot be read: give this user read access to it")
        return absolute

    def summarize(self, path: str) -> StoreSummary:
        items = size = 0
        for item in _walk(self.check_path(path), lambda message: None):
            items += 1
            size += item.status.st_size if item.kind == "file" else 0
        return StoreSummary(items, size)

    def snapshot(self, path: Path, session: SnapshotSession) -> None:
        items = list(_walk(path, session.warn))
        parent = {entry.path: entry for entry in session.parent.entries} if session.parent else {}
        changed = [item for item in items if item.kind != "file" or not _unchanged(item, parent)]
        session.set_totals(sum(1 for item in changed if item.kind == "file"),
                           sum(item.status.st_size for item in changed if item.kind == "file"))
        changed_paths = {item.path for item in changed}
        base = os.path.join(path, "")
        for item in items:
            session.check_cancelled()
            if item.path not in changed_paths:
                session.add(parent[item.path])
            elif item.kind == "dir":
                session.add(session.writer.add_dir(_entry(item)))
            elif item.kind == "symlink":
                self._add_link(path, item, session)
            else:
                self._add_file(base, item, session)

    def _add_link(self, root: Path, item: _Item, session: SnapshotSession) -> None:
        try:
            target = os.readlink(root / item.path)
        except OSError as error:
            session.warn(f"{item.path}: link could not be read ({error.strerror}); not in this set")
            return
        session.add(session.writer.add_symlink(_entry(item, target=target)))

    def _add_file(self, base: str, item: _Item, session: SnapshotSession) -> None:
        """Store one file (``base`` is the store's path ending in a separator)."""
        try:
            fd = os.open(base + item.path, _OPEN_FLAGS)
        except FileNotFoundError:
            session.warn(f"{item.path}: vanished during the backup; not in this set")
            return
        except OSError as error:
            session.warn(f"{item.path}: unreadable ({error.strerror}); skipped — give this user read access "
                         "to back it up")
            return
        try:
            entry = self._read_small(fd, item, session) if item.status.st_size <= SMALL_FILE else None
            if entry is None:
                entry = self._read_large(fd, item, session)
        finally:
            os.close(fd)
        if entry is not None:
            session.add(entry)

    def _read_small(self, fd: int, item: _Item, session: SnapshotSession) -> Entry | None:
        """One read (one byte more than listed shows growth) and one fstat, when nothing changed since the
        file was listed; else None, and the careful path (fstat before and after) reads it again."""
        listed = item.status
        data = os.read(fd, listed.st_size + 1)
        now = os.fstat(fd)
        if (len(data), now.st_size, now.st_mtime_ns, now.st_ino, now.st_mode) != (
                listed.st_size, listed.st_size, listed.st_mtime_ns, listed.st_ino, listed.st_mode):
            os.lseek(fd, 0, os.SEEK_SET)
            return None
        entry = session.writer.add_bytes(_entry(item, now), data)
        session.file_done(item.path, len(data))
        return entry

    def _read_large(self, fd: int, item: _Item, session: SnapshotSession) -> Entry | None:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            session.warn(f"{item.path}: replaced by something that is not a file during the backup; skipped")
            return None
        with os.fdopen(os.dup(fd), "rb", buffering=0) as source:
            entry, short = session.writer.add_file(_entry(item, before), source, session.advance)
        after = os.fstat(fd)
        if short or after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
            _warn_changed(item.path, session)
        session.file_done(item.path)
        return entry


def _warn_changed(path: str, session: SnapshotSession) -> None:
    session.warn(f"{path}: changed while it was read; the copy in this set may be inconsistent — back it up again "
                 "when it is quiet")


def _unchanged(item: _Item, parent: dict[str, Entry]) -> bool:
    previous = parent.get(item.path)
    return previous is not None and _entry(item).same_state(previous)


def _walk(root: Path, warn) -> Iterator[_Item]:
    """Every item below ``root`` in sorted order, links not followed, specials skipped."""
    pending = [("", root)]
    while pending:
        relative, folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda child: child.name)
        except FileNotFoundError:
            warn(f"{relative or '.'}: folder vanished during the backup; not in this set")
            continue
        except OSError as error:
            warn(f"{relative or '.'}: folder unreadable ({error.strerror}); its contents are not in this set")
            continue
        subfolders = []
        for child in children:
            path = f"{relative}/{child.name}" if relative else child.name
            if path == MANIFEST_MEMBER:
                warn(f"{path}: this name is reserved for the set's manifest; skipped — rename the file")
                continue
            try:
                status = child.stat(follow_symlinks=False)
            except FileNotFoundError:
                warn(f"{path}: vanished during the backup; not in this set")
                continue
            mode = status.st_mode
            if stat.S_ISDIR(mode):
                yield _Item(path, "dir", status)
                subfolders.append((path, Path(child.path)))
            elif stat.S_ISLNK(mode):
                yield _Item(path, "symlink", status)
            elif stat.S_ISREG(mode):
                yield _Item(path, "file", status)
            else:
                warn(f"{path}: a socket, FIFO or device file; skipped (only files, folders and links are backed up)")
        pending.extend(reversed(subfolders))


register_driver(FolderDriver())
