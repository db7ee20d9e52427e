"""The folder store type: a directory tree, kept as it is on disk.

Everything GNU tar keeps with ``--xattrs --acls --sparse`` is kept: files, folders (the
store root too), links of every kind stored verbatim (absolute, dangling, pointing out
of the store: a link is data), hard links stored once, FIFOs, modes with set-id and
sticky bits, owners by number and name, nanosecond times before 1970 and after 2038,
extended attributes and POSIX ACLs, and the holes of sparse files. Sockets and devices
are skipped with a warning. One bad file never fails the backup: a file that cannot be
read, vanishes or changes type is skipped with a warning that names it; a file that
changes while it is read is kept and flagged. An incremental set re-reads only files
whose size, mtime, inode, ctime, mode or owner differ from the parent's record; the walk
and the parent's manifest come in the same order, so they are merged, never held whole.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..archive import IN_MEMORY, Entry, SourceError, display_path
from ..archive.entry import new_entry
from ..archive.posix_acl import group_name, user_name
from ..archive.tar_format import sparse_map
from ..archive.writer import CHUNK, SMALL_FILE
from ..remedies import Remedy, with_fix
from . import register_driver
from .base import SnapshotSession, StoreDriver, StoreError, missing_path_error
from .folder_count import BackgroundCount
from .folder_walk import FILE_FLAGS, Item, read_xattrs, walk


def _entry(item: Item, status: os.stat_result, **extra) -> Entry:
    return new_entry(path=item.path, type=item.kind, mode=stat.S_IMODE(status.st_mode), mtime_ns=status.st_mtime_ns,
                     size=status.st_size if item.kind == "file" else 0, uid=status.st_uid, gid=status.st_gid,
                     user=user_name(status.st_uid), group=group_name(status.st_gid), ino=status.st_ino,
                     ctime_ns=status.st_ctime_ns, **extra)


def unchanged_since(status: os.stat_result, previous: Entry) -> bool:
    """The incremental test: a file looks unchanged since ``previous``.

    The ctime moves with every change of content, owner, mode, link count, extended attribute
    or ACL, so an xattr-only change is seen although no field here holds the attributes.
    """
    return (previous.type == "file" and status.st_size == previous.size and status.st_mtime_ns == previous.mtime_ns
            and status.st_ino == previous.ino and status.st_ctime_ns == previous.ctime_ns
            and stat.S_IMODE(status.st_mode) == previous.mode and status.st_uid == previous.uid
            and status.st_gid == previous.gid)


def _may_be_sparse(status: os.stat_result) -> bool:
    return status.st_size > 0 and status.st_blocks * 512 < status.st_size


class FolderDriver(StoreDriver):
    type_name = "folder"
    description = "a directory tree: files, folders, links, permissions and times"
    hint = "A folder: everything below it is backed up (links are kept as links)."
    incremental = True
    excludes = True

    def check_path(self, path: str) -> Path:
        absolute = Path(path).expanduser().absolute()
        if not absolute.exists():
            raise missing_path_error(str(absolute), "a folder")
        if not absolute.is_dir():
            raise with_fix(StoreError(f"the store path {absolute} is a file, not a folder: give the folder that "
                                      "holds the files"), Remedy.OTHER_STORE_TYPE, type="sqlite",
                           what="a SQLite database")
        if not os.access(absolute, os.R_OK | os.X_OK):
            raise StoreError(f"the folder {absolute} cannot be read: give this user read access to it")
        return absolute

    def snapshot(self, path: Path, session: SnapshotSession) -> None:
        excluder = session.excluder
        counting = BackgroundCount(path, session.parent, unchanged_since, session.set_totals,
                                   excluder.rules if excluder else None)
        try:
            self._copy(path, session)
        finally:
            counting.stop()

    def _copy(self, path: Path, session: SnapshotSession) -> None:
        parent = session.parent.entries.cursor() if session.parent else None
        linked: dict[tuple[int, int], str] = {}  # (device, inode) -> the first name of a file with several
        for item in walk(path, session.warn, session.excluder):
            session.check_cancelled()
            key = (item.status.st_dev, item.status.st_ino)
            if item.kind == "file" and item.status.st_nlink > 1 and key in linked:
                self._add_bodiless(item, session, target=linked[key], kind="hardlink")
                continue
            if item.kind == "file":
                previous = parent.get(item.path) if parent is not None else None
                if previous is not None and unchanged_since(item.status, previous):
                    session.add(previous)
                    stored = True
                else:
                    stored = self._add_file(item, session)
                if stored and item.status.st_nlink > 1:
                    linked[key] = item.path  # the name that holds the data: the inode's other names link to it
            elif item.kind == "symlink":
                try:
                    target = os.readlink(item.name, dir_fd=item.dir_fd)
                except OSError as error:
                    session.warn(f"{display_path(item.path)}: link could not be read ({error.strerror}); not in "
                                 "this set")
                    continue
                self._add_bodiless(item, session, target=target)
            else:
                self._add_bodiless(item, session)

    def _add_bodiless(self, item: Item, session: SnapshotSession, *, target: str | None = None,
                      kind: str | None = None) -> None:
        xattrs = self._xattrs(item, session, item.fd)
        if xattrs is None:
            return
        entry = _entry(item, item.status, target=target, xattrs=xattrs)
        if kind is not None:
            entry = Entry(**{**entry.__dict__, "type": kind, "size": 0})
        session.add(session.writer.add_bodiless(entry))

    def _xattrs(self, item: Item, session: SnapshotSession, fd: int | None) -> tuple | None:
        try:
            return read_xattrs(item, fd)
        except OSError as error:
            session.warn(f"{display_path(item.path)}: its extended attributes cannot be read ({error.strerror}); "
                         "not in this set")
            return None

    def _add_file(self, item: Item, session: SnapshotSession) -> bool:
        """Store one file; whether it is in the set (one that cannot be read is skipped, with a warning)."""
        try:
            fd = os.open(item.name, FILE_FLAGS, dir_fd=item.dir_fd)
        except FileNotFoundError:
            session.warn(f"{display_path(item.path)}: vanished during the backup; not in this set")
            return False
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENXIO):
                session.warn(f"{display_path(item.path)}: replaced by something that is not a file during the "
                             "backup; skipped")
            else:
                session.warn(f"{display_path(item.path)}: unreadable ({error.strerror}); skipped — give this user "
                             "read access to back it up")
            return False
        try:
            entry = self._read(fd, item, session)
        except SourceError as error:
            session.warn(f"{display_path(item.path)}: reading failed ({error}); skipped — the rest of the backup "
                         "went on")
            return False
        except OSError as error:
            session.warn(f"{display_path(item.path)}: reading failed ({error.strerror}); skipped — the rest of "
                         "the backup went on")
            return False
        finally:
            os.close(fd)
        if entry is None:
            return False
        session.add(entry)
        return True

    def _read(self, fd: int, item: Item, session: SnapshotSession) -> Entry | None:
        if item.status.st_size <= SMALL_FILE and not _may_be_sparse(item.status):
            entry = self._read_small(fd, item, session)
            if entry is not _CHANGED:
                return entry
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or (before.st_dev, before.st_ino) != (item.status.st_dev,
                                                                                 item.status.st_ino):
            session.warn(f"{display_path(item.path)}: replaced by something else during the backup; skipped")
            return None
        xattrs = self._xattrs(item, session, fd)
        if xattrs is None:
            return None
        regions = _data_regions(fd, before.st_size) if _may_be_sparse(before) else None
        meta = _entry(item, before, xattrs=xattrs, sparse=regions)
        if meta.stored_size <= IN_MEMORY:
            data, short = _read_whole(fd, meta)
            stored = session.writer.add_bytes(meta, data)
            session.file_done(item.path, len(data))
        else:
            stored, short = session.writer.add_stream(meta, _chunks(fd, meta, session))
            session.file_done(item.path)
        after = os.fstat(fd)
        if short or after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
            session.warn(f"{display_path(item.path)}: changed while it was read; the copy in this set may be "
                         "inconsistent — back it up again when it is quiet")
        return stored


    def _read_small(self, fd: int, item: Item, session: SnapshotSession) -> Entry | None | object:
        """One read (a byte more than listed shows growth) and one fstat, when nothing changed since the file
        was listed; else _CHANGED, and the careful path (fstat before and after) reads it again."""
        listed = item.status
        try:
            data = os.pread(fd, listed.st_size + 1, 0)
        except OSError as error:
            if error.errno == errno.ESPIPE:  # a FIFO swapped in since the listing
                return _CHANGED
            raise
        now = os.fstat(fd)
        if (len(data), now.st_size, now.st_mtime_ns, now.st_ino, now.st_dev, now.st_mode) != (
                listed.st_size, listed.st_size, listed.st_mtime_ns, listed.st_ino, listed.st_dev, listed.st_mode):
            return _CHANGED
        xattrs = self._xattrs(item, session, fd)
        if xattrs is None:
            return None
        stored = session.writer.add_bytes(_entry(item, now, xattrs=xattrs), data)
        session.file_done(item.path, len(data))
        return stored


_CHANGED = object()  # a small file that changed since it was listed


def _data_regions(fd: int, size: int) -> tuple[tuple[int, int], ...] | None:
    """Where a file holds data (SEEK_DATA/SEEK_HOLE), or None when it has no holes or the system cannot say."""
    regions = []
    offset = 0
    try:
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as error:
                if error.errno == errno.ENXIO:  # only a hole from here to the end
                    break
                raise
            end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
            if end <= start:
                break
            regions.append((start, end - start))
            offset = end
    except OSError:
        return None
    finally:
        os.lseek(fd, 0, os.SEEK_SET)
    if regions == [(0, size)]:
        return None
    return tuple(regions)


def _pieces(meta: Entry) -> Iterator[tuple[int, int]]:
    """(offset, length) of the file's bytes that are stored, in order."""
    if meta.sparse is None:
        yield 0, meta.size
    else:
        yield from meta.sparse


def _read_whole(fd: int, meta: Entry) -> tuple[bytes, bool]:
    """The member's data read at once: the sparse map first, if any; zero-filled if the file shrank."""
    parts = [sparse_map(meta.sparse, meta.size)] if meta.sparse is not None else []
    short = False
    for offset, length in _pieces(meta):
        piece = os.pread(fd, length, offset)
        while len(piece) < length:
            more = os.pread(fd, length - len(piece), offset + len(piece))
            if not more:
                short = True
                piece += bytes(length - len(piece))
                break
            piece += more
        parts.append(piece)
    if meta.sparse is None and os.pread(fd, 1, meta.size):
        short = True  # it grew: what was listed is kept, and flagged
    return b"".join(parts), short


def _chunks(fd: int, meta: Entry, session: SnapshotSession) -> Iterator[bytes]:
    """The member's data in pieces of a MiB (the writer zero-fills if they end early)."""
    if meta.sparse is not None:
        yield sparse_map(meta.sparse, meta.size)
    for offset, length in _pieces(meta):
        end = offset + length
        while offset < end:
            piece = os.pread(fd, min(CHUNK, end - offset), offset)
            if not piece:
                return
            offset += len(piece)
            session.advance(len(piece))
            yield piece


register_driver(FolderDriver())
