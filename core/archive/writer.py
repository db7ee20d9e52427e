"""Writing a backup set: tar members into zstd frames that start at member boundaries.

The set is written under a temporary name in the target folder, fsynced, and renamed
into place only when complete, with its sidecar manifest renamed just before it, so a
set file that exists is always whole. Any failure (or a cancel raised from the data
callback) removes the temporary files: nothing partial is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import zstandard

from . import tar_format
from ..leftovers import partial_name
from .errors import ArchiveError, TargetFull
from .compression_pipe import CompressionPipe
from .manifest import MANIFEST_MEMBER, Entry, SetManifest, sidecar_path
from .zstd_frames import trailer

FRAME_TARGET = 4 << 20  # start a new frame after this many uncompressed bytes
CHUNK = 1 << 20
SMALL_FILE = 256 << 10  # read and written in one piece
_FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)

DataCallback = Callable[[int], None]


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
        return TargetFull(f"the target {path.parent} ran out of space ({error.strerror}) while writing "
                          f"{path.name}; nothing was kept: free space there or choose another --target")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return ArchiveError(f"cannot write to the target {path.parent} ({error.strerror}): "
                            "make it writable or choose another --target")
    return ArchiveError(f"writing {path} failed: {error.strerror or error}; nothing was kept")


def _place(entry: Entry, offsets: list[int]) -> None:
    """Give an entry of this set the compressed offset of its frame; until now it held the frame's index.

    Done in place (the entries are this writer's own, not yet handed out as final):
    rebuilding 50,000 entries cost about a tenth of a second.
    """
    object.__setattr__(entry, "frame_offset", offsets[entry.frame_offset])


class SetWriter:
    """Writes one set file. Use as a context manager; call ``finish`` to keep it."""

    def __init__(self, path: Path, *, set_id: str, level: int = 3, threads: int = 0,
                 frame_target: int = FRAME_TARGET) -> None:
        self.path = path
        self.set_id = set_id
        self.frame_target = frame_target
        self._temporary = temporary_name(path)
        self._sidecar_temporary = temporary_name(sidecar_path(path))
        self._buffer = bytearray(CHUNK)
        threads = threads if threads else (os.cpu_count() or 1)
        compressor = zstandard.ZstdCompressor(level=level, threads=threads if threads > 1 else 0,
                                              write_checksum=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: BinaryIO = open(self._temporary, "xb")  # noqa: SIM115 - closed in finish/abort
        except OSError as error:
            raise target_error(error, path) from None
        self._zstd = compressor.stream_writer(self._fh, closefd=False, write_size=CHUNK)
        self._pipe = CompressionPipe(self._zstd, self._fh)
        self._frame_index = 0  # entries carry it as frame_offset until finish knows the offsets
        self._frame_position = 0
        self._pending_header = bytearray()
        self._batch = bytearray()
        self._done = False
        self.left_behind: list[Path] = []  # partial files an abort could not remove

    # -- members --------------------------------------------------------------------------

    def add_dir(self, meta: Entry) -> Entry:
        return self._add_bodiless(meta)

    def add_symlink(self, meta: Entry) -> Entry:
        return self._add_bodiless(meta)

    def add_file(self, meta: Entry, source: BinaryIO, on_data: DataCallback | None = None) -> tuple[Entry, bool]:
        """Store ``meta.size`` bytes read from ``source``.

        Returns the stored entry and whether the source ended early (it shrank while
        being read; the rest is zero-filled so the tar stream stays valid).
        """
        if meta.size <= SMALL_FILE:
            data = source.read(meta.size)
            short = len(data) < meta.size
            entry = self.add_bytes(meta, data + bytes(meta.size - len(data)) if short else data)
            if on_data is not None:
                on_data(meta.size)
            return entry, short
        offsets = self._start_member(meta)
        digest, short = self._copy_large(meta, source, on_data)
        return self._stored(meta, digest, offsets), short

    def add_bytes(self, meta: Entry, data: bytes) -> Entry:
        """Store a small file already read: header, data and padding go out in one write."""
        if len(data) != meta.size:
            raise ValueError(f"{meta.path}: {len(data)} bytes given for a member of {meta.size}")
        offsets = self._start_member(meta)
        self._pending_header += data
        self._pending_header += bytes(tar_format.padding(meta.size))
        self._write(self._pending_header)
        return self._stored(meta, hashlib.sha256(data).hexdigest(), offsets)

    def _stored(self, meta: Entry, digest: str, offsets: tuple[int, int, int]) -> Entry:
        return Entry(meta.path, meta.type, meta.mode, meta.mtime_ns, meta.size, digest, meta.target, meta.uid,
                     meta.gid, meta.ino, meta.ctime_ns, self.set_id, *offsets)

    def _copy_large(self, meta: Entry, source: BinaryIO, on_data: DataCallback | None) -> tuple[str, bool]:
        self._write(self._pending_header)
        digest = hashlib.sha256()
        remaining = meta.size
        view = memoryview(self._buffer)
        short = False
        while remaining:
            count = source.readinto(view[: min(CHUNK, remaining)])
            if not count:
                short = True
                count = min(CHUNK, remaining)
                view[:count] = bytes(count)
            piece = view[:count]
            digest.update(piece)
            self._write(piece)
            remaining -= count
            if on_data is not None:
                on_data(count)
        self._write(bytes(tar_format.padding(meta.size)))
        return digest.hexdigest(), short

    def _add_bodiless(self, meta: Entry) -> Entry:
        frame, header, data = self._start_member(replace(meta, size=0) if meta.size else meta)
        self._write(self._pending_header)
        return replace(meta, size=0, set_id=self.set_id, frame_offset=frame, header_offset=header, data_offset=data)

    def _start_member(self, meta: Entry) -> tuple[int, int, int]:
        """Prepare the member's header (written with its data); return its frame and offsets."""
        if self._frame_position and (self._frame_position >= self.frame_target or meta.size >= self.frame_target):
            self._end_frame()
        header = tar_format.header(meta.path, meta.type, size=meta.size, mode=meta.mode,
                                   mtime=meta.mtime_ns // 1_000_000_000, uid=meta.uid, gid=meta.gid,
                                   target=meta.target or "")
        self._pending_header = bytearray(header)
        return self._frame_index, self._frame_position, self._frame_position + len(header)

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

    def finish(self, manifest: SetManifest, *, commit: bool = True) -> SetManifest:
        """Write the manifest member, end the stream and sync; return the final manifest.

        With ``commit`` the set and its sidecar also get their final names. Without it they
        stay under their partial names (``temporary``) until ``commit``: the backup job
        verifies them there and records them in the catalog first, so that a set under its
        final name is always one the catalog knows.
        """
        try:
            if self._frame_position:
                self._end_frame()
            self._pipe.drain()
            offsets = self._pipe.frame_offsets
            for entry in manifest.entries:
                if entry.set_id == self.set_id:
                    _place(entry, offsets)
            manifest = replace(manifest, manifest_frame_offset=offsets[self._frame_index])
            document = manifest.to_bytes()
            self._zstd.write(tar_format.header(MANIFEST_MEMBER, "file", size=len(document), mode=0o644,
                                               mtime=int(os.path.getmtime(self._temporary))))
            self._zstd.write(document)
            self._zstd.write(bytes(tar_format.padding(len(document))) + tar_format.END_OF_ARCHIVE)
            self._zstd.flush(zstandard.FLUSH_FRAME)
            self._fh.write(trailer(manifest.manifest_frame_offset))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            with open(self._sidecar_temporary, "xb") as sidecar:
                sidecar.write(document)
                sidecar.flush()
                os.fsync(sidecar.fileno())
            if commit:
                self._rename()
        except OSError as error:
            self.abort()
            raise target_error(error, self.path) from None
        except BaseException:
            self.abort()
            raise
        self._done = commit
        return manifest

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
        try:
            self._fh.close()
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
