"""Reading a backup set: its manifest, and any member without decompressing what precedes it."""

from __future__ import annotations

import hashlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..regular_files import NotARegularFile, open_regular, read_regular
from ..remedies import Remedy, with_fix
from . import tar_format
from .errors import ArchiveError, DamagedSet
from .member_paths import display_path
from .manifest import (LEGACY_MANIFEST_MEMBER, MAX_HEAD_BYTES, MAX_MANIFEST_BYTES, Entry, SetManifest,
                       parse_manifest, sidecar_path)
from .manifest_blocks import HEAD_TAG, BlockSource, frame_tag, unframe
from .zstd_frames import MANIFEST_TAG, TRAILER, FrameError, frame_stream, read_manifest_frame, read_trailer

CHUNK = 1 << 20


@dataclass(frozen=True)
class Expected:
    """What the catalog recorded of a set when it was written: the root of trust for reading it back."""

    set_id: str
    size: int
    manifest_sha256: str


class NotTheSetWritten(DamagedSet):
    """A set file whose size or manifest is not what the catalog recorded: replaced or edited since."""


def open_for_reading(path: Path, *, shared_lock: bool = True) -> BinaryIO:
    """A set file opened for reading, with a shared lock on it: a prune does not delete a set being read
    (it skips one it cannot lock alone), and a set a prune is deleting is not started on.

    The manifest's blocks are read through handles of their own, opened without the lock:
    a browsed manifest (the restore wizard's tree) does not keep a set from being pruned."""
    try:
        fh = open_regular(path)
    except NotARegularFile as error:
        raise ArchiveError(f"{path} is {error.strerror}: a set file is a regular file — remove what stands "
                           "there or restore the set from a copy") from None
    except FileNotFoundError:
        raise with_fix(ArchiveError(f"the set file {path} does not exist: it was moved or deleted"),
                       Remedy.LIST_SETS) from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not a set file") from None
    except OSError as error:
        raise ArchiveError(f"cannot read the set file {path} ({error.strerror}): check its permissions") from None
    if not shared_lock:
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise ArchiveError(f"the set file {path} is being deleted (by a prune or 'sets delete'): choose another "
                           "set") from None
    except OSError:
        pass  # a file system without flock: reading goes on unguarded
    return fh


class SetReader:
    """An open set file and its manifest (from the sidecar, else from inside the set)."""

    def __init__(self, path: Path, manifest: SetManifest | None = None, *, load: bool = True,
                 expected: Expected | None = None) -> None:
        """Open ``path``; with ``load=False`` the caller picks the manifest with ``use``.

        With ``expected`` (the catalog's record) the manifest used — the sidecar if it
        matches, else the one inside — must be the one the catalog holds, or NotTheSetWritten
        says so. The members' bytes are then checked against it by their SHA-256 as they
        are read (verify also checks the file's size).
        """
        self.path = path
        self.expected = expected
        self._fh = open_for_reading(path)
        self._stream = None
        self._stream_frame = self._stream_position = -1
        try:
            self.size = os.fstat(self._fh.fileno()).st_size
            self.trailer_offset = read_trailer(self._fh, self.size)
            if manifest is not None or load:
                self.use(manifest or self._load_manifest())
        except BaseException:
            self.close()
            raise

    def use(self, manifest: SetManifest) -> None:
        """Read members where ``manifest`` says they are."""
        self.manifest = manifest
        self._tar_end = manifest.end_frame_offset if manifest.end_frame_offset is not None else \
            manifest.manifest_frame_offset

    @property
    def raw(self) -> BinaryIO:
        """The open set file (for frame-level checks)."""
        return self._fh

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> SetReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- manifest -------------------------------------------------------------------------

    def _load_manifest(self) -> SetManifest:
        """The sidecar when it is sound (and, with ``expected``, the one written), else the manifest inside."""
        try:
            sidecar = read_sidecar_head(self.path)
        except ArchiveError:
            sidecar = None
        if sidecar is not None and (self.expected is None or _digest(sidecar[0]) == self.expected.manifest_sha256):
            try:
                return parse_manifest(sidecar[0], str(sidecar_path(self.path)), sidecar[1])
            except ArchiveError:
                pass  # fall back on the copy inside the set; verify reports the sidecar
        internal = self.internal_manifest()
        self.check_expected(internal)
        return internal

    def check_expected(self, manifest: SetManifest) -> None:
        """NotTheSetWritten unless ``manifest`` is the one the catalog recorded (when it recorded one)."""
        if self.expected is not None and manifest.digest() != self.expected.manifest_sha256:
            raise NotTheSetWritten(f"the manifest of {self.path} is not the one set {self.expected.set_id} was "
                                   "written with (its SHA-256 differs from the catalog's): the set was replaced or "
                                   "edited — restore from another set or a copy of this one")

    def internal_manifest(self) -> SetManifest:
        """The manifest stored inside the set (found through the index trailer)."""
        if self.trailer_offset is None:
            raise DamagedSet(f"the set {self.path} is truncated or not a Strongroom set (its index trailer is "
                             "missing) and has no readable sidecar manifest: it cannot be restored by Strongroom")
        tag = frame_tag(self._fh, self.trailer_offset)
        limit = self.size - TRAILER.size
        if tag == HEAD_TAG:
            head = read_head(self._fh, self.trailer_offset, limit, f"inside {self.path}")
            path, end = self.path, self.trailer_offset
            return parse_manifest(head, f"inside {self.path}",
                                  lambda start: BlockSource(partial(open_for_reading, path, shared_lock=False), start, end - start,
                                                            str(path)))
        if tag == MANIFEST_TAG:
            try:
                document = read_manifest_frame(self._fh, self.trailer_offset, limit, MAX_MANIFEST_BYTES)
            except FrameError as error:
                raise DamagedSet(f"the manifest inside {self.path} is damaged ({error}): the set cannot be "
                                 "read") from None
            return parse_manifest(document, f"inside {self.path}")
        return self._legacy_manifest()

    def _legacy_manifest(self) -> SetManifest:
        """A version 1 set kept its manifest as the tar stream's last member."""
        stream = frame_stream(self._fh, self.trailer_offset, self.size - TRAILER.size)
        try:
            head = read_exactly(stream, tar_format.BLOCK)
            member = tar_format.parse_header(head)
            if member.path != LEGACY_MANIFEST_MEMBER or member.kind != "file" or member.stored > MAX_MANIFEST_BYTES:
                raise ValueError(f"unexpected last member {member.path!r}")
            return parse_manifest(read_exactly(stream, member.stored), f"inside {self.path}")
        except (ValueError, zstandard.ZstdError) as error:
            raise DamagedSet(f"the manifest inside {self.path} is damaged ({error}): the set cannot be read") from None

    # -- members --------------------------------------------------------------------------

    def read_members(self, entries: Iterable[Entry]) -> Iterator[tuple[Entry, Iterator[bytes]]]:
        """Yield each file entry with an iterator over its stored bytes, checked against its SHA-256.

        A sparse file's stored bytes are its map block, then its data regions one after
        the other (see ``restore.apply`` for where they land).

        Give entries in set order (a manifest's own entries come so), and members sharing a
        frame decompress it once. Consume each byte iterator before asking for the next
        entry; it raises DamagedSet naming the member if the bytes are not what was written.
        """
        for entry in entries:
            yield entry, self.member(entry)

    def member(self, entry: Entry) -> Iterator[bytes]:
        """The stored bytes of one file entry of this set, checked as they are read (see ``read_members``)."""
        if entry.set_id != self.manifest.set_id or entry.type != "file":
            raise ValueError(f"{entry.path} is not a file of set {self.manifest.set_id}")
        return self._member_chunks(entry)

    def _member_chunks(self, entry: Entry) -> Iterator[bytes]:
        try:
            if self._stream is None or self._stream_frame != entry.frame_offset or \
                    self._stream_position > entry.data_offset:
                if not entry.frame_offset < self._tar_end:
                    raise ValueError(f"its frame offset {entry.frame_offset} lies past the tar stream")
                self._stream = frame_stream(self._fh, entry.frame_offset, self._tar_end)
                self._stream_frame, self._stream_position = entry.frame_offset, 0
            stream = self._stream
            _skip(stream, entry.data_offset - self._stream_position)
            self._stream_position = entry.data_offset
            digest = hashlib.sha256()
            remaining = entry.stored_size
            while remaining:
                chunk = stream.read(min(CHUNK, remaining))
                if not chunk:
                    raise ValueError("the data ends early (the set is truncated)")
                digest.update(chunk)
                remaining -= len(chunk)
                self._stream_position += len(chunk)
                yield chunk
        except (ValueError, zstandard.ZstdError) as error:
            self._stream = None
            raise DamagedSet(f"member '{display_path(entry.path)}' of {self.path} is damaged: {error}", (entry.path,)) from None
        if digest.hexdigest() != entry.sha256:
            raise DamagedSet(f"member '{display_path(entry.path)}' of {self.path} is damaged: its SHA-256 does not match the "
                             "manifest", (entry.path,))

    def read_file(self, entry: Entry) -> bytes:
        """The whole content of one (small) member, checked."""
        for _, chunks in self.read_members([entry]):
            return b"".join(chunks)
        return b""


def read_sidecar_head(set_path: Path) -> tuple[bytes, Callable[[int], BlockSource] | None] | None:
    """A sidecar's manifest head and where its blocks are (a format 2 sidecar: its whole document, no
    blocks); None when it is missing or not a regular file, DamagedSet when it is not a manifest."""
    path = sidecar_path(set_path)
    try:
        fh = open_regular(path)
    except (OSError, NotARegularFile):
        return None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if fh.read(1) == b"{":  # a format 2 sidecar: the whole manifest as one document
            return read_regular(path, MAX_MANIFEST_BYTES), None
        head_offset = read_trailer(fh, size)
        if head_offset is None:
            raise DamagedSet(f"the sidecar manifest {path} has no index trailer")
        head = read_head(fh, head_offset, size - TRAILER.size, str(path))
    return head, lambda start: BlockSource(partial(open_regular, path), 0, head_offset, str(path))


def read_head(fh: BinaryIO, start: int, end: int, origin: str) -> bytes:
    """The manifest head in the frame from ``start`` to ``end``."""
    if not 0 <= start < end or end - start > MAX_HEAD_BYTES:
        raise DamagedSet(f"the manifest head {origin} is missing or too large")
    fh.seek(start)
    return unframe(fh.read(end - start), HEAD_TAG, f"the manifest head {origin}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_exactly(stream, count: int) -> bytes:
    """``count`` decompressed bytes, or ValueError when the stream ends first."""
    parts = []
    while count:
        chunk = stream.read(min(CHUNK, count))
        if not chunk:
            raise ValueError("the data ends early (the set is truncated)")
        parts.append(chunk)
        count -= len(chunk)
    return b"".join(parts)


def _skip(stream, count: int) -> None:
    while count > 0:
        count -= len(read_exactly(stream, min(CHUNK, count)))
