"""Writing a backup set: tar members into zstd frames that start at member boundaries.

The set is written under a temporary name in the target folder, fsynced, and renamed
into place only when complete, with its sidecar manifest renamed just before it, so a
set file that exists is always whole. Any failure (or a cancel raised from the data
callback) removes the temporary files: nothing partial is left behind.

The manifest is written as the backup goes (``record``, in path order; see
manifest_spool.py) and copied after the tar stream by ``finish``.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import zstandard

from . import tar_format
from ..leftovers import partial_name
from ..remedies import Remedy, with_fix
from .errors import ArchiveError, TargetFull
from .compression_pipe import CompressionPipe
from .entries import EntryStream, PathStream
from .manifest import Entry, SetInfo, SetManifest, sidecar_path
from .manifest_blocks import BlockSource
from .manifest_spool import ManifestSpool
from .reader import open_for_reading

FRAME_TARGET = 4 << 20  # start a new frame after this many uncompressed bytes
CHUNK = 1 << 20
SMALL_FILE = 256 << 10  # read and written in one piece
SLOW_LEVEL, SLOW_LEVEL_JOB = 10, 4 << 20  # from this level on, zstd's workers get jobs of this size
IN_MEMORY = FRAME_TARGET  # larger members are streamed, each in a frame of its own
_FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)

DataCallback = Callable[[int], None]


def _read_chunks(source: BinaryIO, buffer: bytearray, on_data: DataCallback | None) -> Iterator[memoryview]:
    view = memoryview(buffer)
    while True:
        count = source.readinto(view)
        if not count:
            return
        if on_data is not None:
            on_data(count)
        yield view[:count]


def temporary_name(path: Path) -> Path:
    return partial_name(path)


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a directory; the data itself is synced
        pass
    finally:
        os.close(fd)


def target_error(error: OSError, path: Path) -> ArchiveError:
    """Turn an OSError while writing ``path`` into a one-line message that says what to do."""
    if error.errno in _FULL_ERRNOS:
        return with_fix(TargetFull(f"the target {path.parent} ran out of space ({error.strerror}) while writing "
                                   f"{path.name}; nothing was kept: free space there"), Remedy.OTHER_TARGET)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return with_fix(ArchiveError(f"cannot write to the target {path.parent} ({error.strerror}): make it "
                                     "writable"), Remedy.OTHER_TARGET)
    return ArchiveError(f"writing {path} failed: {error.strerror or error}; nothing was kept")


def _with(entry: Entry, **changes: object) -> Entry:
    """A copy of a frozen entry with some fields changed (``dataclasses.replace`` is slow for many files)."""
    copy = object.__new__(Entry)
    copy.__dict__.update(entry.__dict__)
    copy.__dict__.update(changes)
    return copy


class SourceError(Exception):
    """Reading an item of the store failed half-way: its member was taken back out of the set."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))


@dataclass(frozen=True)
class SetPermissions:
    """Who may read sets: a set holds every file of its store, so by default its owner alone.

    In machine scope the administrators' group (the group of the target folder, kept by
    its set-group-id bit) may read them too.
    """

    folder_mode: int = 0o700
    file_mode: int = 0o600


PRIVATE = SetPermissions()
SHARED_WITH_GROUP = SetPermissions(0o2750, 0o640)


def make_folders(path: Path, mode: int) -> list[Path]:
    """Make ``path`` and whatever is missing above it, each with exactly ``mode``; return those made."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, mode)
        except FileExistsError:
            continue
        os.chmod(folder, mode)  # the umask may have taken bits the mode asks for
    return missing


def _create(path: Path, mode: int) -> BinaryIO:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    os.fchmod(fd, mode)
    return os.fdopen(fd, "w+b")


class SetWriter:
    """Writes one set file. Use as a context manager; call ``finish`` to keep it."""

    def __init__(self, path: Path, *, set_id: str, level: int = 3, threads: int = 0,
                 frame_target: int = FRAME_TARGET, permissions: SetPermissions = PRIVATE,
                 check_cancelled: Callable[[], None] = lambda: None) -> None:
        self.path = path
        self._check_cancelled = check_cancelled  # may raise while finish waits for the compressor
        self.set_id = set_id
        self.frame_target = frame_target
        self.permissions = permissions
        self._temporary = temporary_name(path)
        self._sidecar_temporary = temporary_name(sidecar_path(path))
        self._buffer = bytearray(CHUNK)
        threads = threads if threads else (os.cpu_count() or 1)
        # At the slow levels zstd's workers each take a job of 4 windows (32 MiB at level 19): reading ran that
        # far ahead of what was compressed, so progress froze at the end and a cancel waited for whole jobs.
        # 4 MiB jobs keep what is read within a few MiB of what is written (on 32 MiB of dump and text at level 19
        # the ratio was 0.235 with them, 0.242 with the default jobs).
        parameters = zstandard.ZstdCompressionParameters.from_level(
            level, threads=threads if threads > 1 else 0, write_checksum=True,
            job_size=SLOW_LEVEL_JOB if level >= SLOW_LEVEL and threads > 1 else 0)
        compressor = zstandard.ZstdCompressor(compression_params=parameters)
        try:
            make_folders(path.parent, permissions.folder_mode)
            self._fh: BinaryIO = _create(self._temporary, permissions.file_mode)  # closed in finish/abort
            self._spool: BinaryIO = _create(self._sidecar_temporary, permissions.file_mode)
        except OSError as error:
            if hasattr(self, "_fh"):
                self._fh.close()
                self._temporary.unlink(missing_ok=True)
            raise target_error(error, path) from None
        self._pipe = CompressionPipe(lambda: compressor.stream_writer(self._fh, closefd=False, write_size=CHUNK),
                                     self._fh, check_cancelled)
        self._frame_index = 0  # entries carry it as frame_offset until finish knows the offsets
        self._frame_position = 0
        self._pending_header = bytearray()
        self._batch = bytearray()
        self._done = False
        self.left_behind: list[Path] = []  # partial files an abort could not remove
        self._manifest = ManifestSpool(self._spool, set_id, self._pipe.frame_offsets)

    # -- the manifest ---------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Add an entry of this point in time to the manifest (see manifest_spool.py): one this writer
        stored, or one carried over from the parent set. Entries come in path order, each path once."""
        self._manifest.record(entry)

    def record_deleted(self, path: str) -> None:
        """A path of the parent set that this point in time no longer has (in path order)."""
        self._manifest.record_deleted(path)

    # -- members --------------------------------------------------------------------------

    def add_bodiless(self, meta: Entry) -> Entry:
        """A folder, a link (symbolic or hard) or a FIFO: a header and no data."""
        meta = _with(meta, size=0, sparse=None, sha256=None) if meta.size or meta.sparse else meta
        offsets = self._start_member(meta)
        self._write(self._pending_header)
        return _with(meta, set_id=self.set_id, frame_offset=offsets[0], header_offset=offsets[1],
                     data_offset=offsets[2])

    def add_bytes(self, meta: Entry, data: bytes | memoryview) -> Entry:
        """Store a member whose data is already read (a sparse file's: its map, then its data regions)."""
        if len(data) != meta.stored_size:
            raise ValueError(f"{meta.path}: {len(data)} bytes given for a member of {meta.stored_size}")
        offsets = self._start_member(meta)
        self._pending_header += data
        self._pending_header += bytes(tar_format.padding(len(data)))
        self._write(self._pending_header)
        return self._stored(meta, hashlib.sha256(data).hexdigest(), offsets)

    def add_stream(self, meta: Entry, chunks: Iterable[bytes | memoryview]) -> tuple[Entry, bool]:
        """Store a large member from ``chunks`` of its data, in a frame of its own.

        Returns the stored entry and whether the data ended early (the file shrank while
        it was read; the rest is zero-filled so the tar stream stays valid, as GNU tar
        does). When reading fails (``chunks`` raises OSError) the member's frame is taken
        back whole and SourceError is raised: the set goes on without it.
        """
        expected = meta.stored_size
        offsets = self._start_member(meta, alone=True)
        self._write(self._pending_header)
        digest = hashlib.sha256()
        written = 0
        try:
            for chunk in chunks:
                piece = chunk[: expected - written]
                digest.update(piece)
                self._write(piece)
                written += len(piece)
                if written == expected:
                    break
        except OSError as error:
            self._rollback()
            raise SourceError(error) from None
        short = written < expected
        while written < expected:
            count = min(CHUNK, expected - written)
            zeros = bytes(count)
            digest.update(zeros)
            self._write(zeros)
            written += count
        self._write(bytes(tar_format.padding(expected)))
        return self._stored(meta, digest.hexdigest(), offsets), short

    def add_file(self, meta: Entry, source: BinaryIO, on_data: DataCallback | None = None) -> tuple[Entry, bool]:
        """Store ``meta.size`` bytes read from ``source`` (a file object, not sparse)."""
        if meta.size <= SMALL_FILE:
            data = source.read(meta.size)
            short = len(data) < meta.size
            entry = self.add_bytes(meta, data + bytes(meta.size - len(data)) if short else data)
            if on_data is not None:
                on_data(meta.size)
            return entry, short
        return self.add_stream(meta, _read_chunks(source, self._buffer, on_data))

    def _stored(self, meta: Entry, digest: str, offsets: tuple[int, int, int]) -> Entry:
        return _with(meta, sha256=digest, set_id=self.set_id, frame_offset=offsets[0], header_offset=offsets[1],
                     data_offset=offsets[2])

    def _start_member(self, meta: Entry, *, alone: bool = False) -> tuple[int, int, int]:
        """Prepare the member's header (written with its data); return its frame and offsets."""
        if self._frame_position and (alone or self._frame_position >= self.frame_target
                                     or meta.stored_size >= self.frame_target):
            self._end_frame()
        header = tar_format.header(meta.head())
        self._pending_header = bytearray(header)
        return self._frame_index, self._frame_position, self._frame_position + len(header)

    def _rollback(self) -> None:
        """Take back the frame being written (it holds one member, see ``add_stream``)."""
        self._batch = bytearray()
        try:
            self._pipe.rollback()
        except OSError as error:
            raise target_error(error, self.path) from None
        self._frame_position = 0

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue bytes for the compressor; small pieces are batched (one hand-over per MiB)."""
        self._frame_position += len(data)
        self._batch += data
        if len(self._batch) >= CHUNK:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch:
            batch, self._batch = bytes(self._batch), bytearray()
            try:
                self._pipe.write(batch)
            except OSError as error:
                raise target_error(error, self.path) from None

    def _end_frame(self) -> None:
        self._flush_batch()
        try:
            self._pipe.end_frame()
        except OSError as error:
            raise target_error(error, self.path) from None
        self._frame_index += 1
        self._frame_position = 0

    # -- completion -----------------------------------------------------------------------

    def finish(self, info: SetInfo, *, commit: bool = True) -> SetManifest:
        """End the tar stream, write the manifest after it and into the sidecar, sync; return the manifest.

        With ``commit`` the set and its sidecar also get their final names. Without it they
        stay under their partial names (``temporary``) until ``commit``: the backup job
        verifies them there and records them in the catalog first, so that a set under its
        final name is always one the catalog knows (core/set_commit.py).
        """
        if info.set_id != self.set_id:
            raise ValueError(f"the manifest of set {info.set_id} cannot finish set {self.set_id}")
        try:
            if self._frame_position:
                self._end_frame()
            end_frame = self._frame_index
            self._write(tar_format.END_OF_ARCHIVE)  # in a frame of its own, so every member frame ends whole
            self._end_frame()
            self._pipe.drain(self._check_cancelled)
            offsets = self._pipe.frame_offsets
            start, end_offset = offsets[end_frame + 1], offsets[end_frame]
            section = self._manifest.finish(info, start, end_offset)
            self._fh.seek(start)
            self._manifest.write_into(self._fh, start, section)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._spool.close()
            if commit:
                self._rename()
        except OSError as error:
            self.abort()
            raise target_error(error, self.path) from None
        except BaseException:
            self.abort()
            raise
        self._done = commit
        where = self.path if commit else self._temporary
        source = BlockSource(partial(open_for_reading, where, shared_lock=False), start, section, str(where))
        entries_tree, deleted_tree = self._manifest.trees
        return SetManifest(**info.__dict__, entries=EntryStream(source, entries_tree),
                           deleted=PathStream(source, deleted_tree), manifest_frame_offset=start,
                           end_frame_offset=end_offset, totals=self._manifest.totals, head=self._manifest.head)

    @property
    def temporary(self) -> Path:
        """The set file under its partial name (until ``commit``)."""
        return self._temporary

    def commit(self) -> None:
        """Give a finished set and its sidecar their final names."""
        try:
            self._rename()
        except OSError as error:
            self.abort()
            raise target_error(error, self.path) from None
        self._done = True

    def _rename(self) -> None:
        os.replace(self._sidecar_temporary, sidecar_path(self.path))
        self._sidecar_temporary = sidecar_path(self.path)  # an abort from here on removes it
        os.replace(self._temporary, self.path)
        fsync_directory(self.path.parent)

    def abort(self) -> None:
        """Remove everything this writer created (safe to call more than once)."""
        if self._done:
            return
        self._done = True
        self._pipe.abort()
        for handle in (self._fh, self._spool):
            try:
                handle.close()
            except OSError:
                pass
        for leftover in (self._temporary, self._sidecar_temporary):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # a target turned read-only: the next backup there removes it (leftovers.py)
                self.left_behind.append(leftover)

    def __enter__(self) -> SetWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None or not self._done:
            self.abort()
