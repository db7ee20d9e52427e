"""The manifest being written as a backup goes: entries in path order, spooled to the sidecar.

Entries arrive in the walk's order (``sort_key``), each path once. One this set stores
knows only the index of its zstd frame until the compressor has placed that frame, so
it waits (with everything recorded after it: the order must hold) until the frame's
offset is known — the compressor is a few MiB behind at most, so few entries wait. Then
it goes into a block of the sidecar's partial file; at the end the blocks, the index and
the head are copied after the tar stream (``write_into``), so memory holds a block and
the waiting entries whatever the number of files.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from typing import BinaryIO

from .entry import Entry
from .manifest import SetInfo, Totals, head_document
from .manifest_blocks import DELETED_TAG, ENTRIES_TAG, HEAD_TAG, BlockWriter, Tree, frame, sort_key
from .zstd_frames import trailer

CHUNK = 1 << 20


class ManifestSpool:
    def __init__(self, spool: BinaryIO, set_id: str, frame_offsets: list[int]) -> None:
        self._spool = spool
        self._set_id = set_id
        self._offsets = frame_offsets  # where each frame starts, as the compressor places them
        self._entries = BlockWriter(spool, ENTRIES_TAG)
        self._deleted = BlockWriter(spool, DELETED_TAG)
        self._waiting: deque[Entry] = deque()
        self._last_key: bytes | None = None
        self._last_deleted: bytes | None = None
        self._totals = [0, 0, 0]  # files, bytes, store bytes
        self.trees: tuple[Tree, Tree] | None = None
        self.head = b""

    @property
    def totals(self) -> Totals:
        return Totals(*self._totals)

    def record(self, entry: Entry) -> None:
        """An entry of this point in time: one this set stored, or one carried over from the parent set."""
        key = sort_key(entry.path)
        if self._last_key is not None and key <= self._last_key:
            raise ValueError(f"manifest entries out of order: {entry.path!r} after an entry that sorts after it")
        self._last_key = key
        if entry.type == "file":
            self._totals[2] += entry.size
            if entry.set_id == self._set_id:
                self._totals[0] += 1
                self._totals[1] += entry.size if entry.delta is None else entry.delta
        self._waiting.append(entry)
        self.release()

    def record_deleted(self, path: str) -> None:
        """A path of the parent set that this point in time no longer has (in path order)."""
        key = sort_key(path)
        if self._last_deleted is not None and key <= self._last_deleted:
            raise ValueError(f"deleted paths out of order: {path!r}")
        self._last_deleted = key
        self._deleted.add(path, path, len(path))

    def release(self) -> None:
        """Write out the waiting entries whose frames the compressor has placed."""
        offsets = self._offsets
        placed = len(offsets)
        waiting = self._waiting
        while waiting:
            entry = waiting[0]
            if entry.set_id == self._set_id:
                if entry.frame_offset >= placed:
                    return
                object.__setattr__(entry, "frame_offset", offsets[entry.frame_offset])  # this set's own entry
            waiting.popleft()
            record = entry.public_dict()
            self._entries.add(entry.path, record, 300 + (len(record["pages"]["hashes"]) if entry.pages else 0))

    def finish(self, info: SetInfo, start: int, end_frame_offset: int) -> int:
        """Write the index and head into the spool (the sidecar) and sync it; the length of its blocks.

        ``start`` is where the manifest will begin in the set, ``end_frame_offset`` the
        frame holding the tar end-of-archive blocks. Call once every frame is placed.
        """
        self.release()
        if self._waiting:
            raise RuntimeError("manifest entries are left without a frame")
        self.trees = (self._entries.finish(), self._deleted.finish())
        section = self._spool.tell()
        self.head = head_document(info, self.totals, *self.trees, start, end_frame_offset)
        self._spool.write(frame(HEAD_TAG, self.head) + trailer(section))
        self._spool.flush()
        os.fsync(self._spool.fileno())
        return section

    def write_into(self, out: BinaryIO, start: int, section: int) -> None:
        """The blocks and the head after the tar stream at ``start``, then the trailer pointing at the head."""
        self._spool.seek(0)
        remaining = section
        while remaining:
            chunk = self._spool.read(min(CHUNK, remaining))
            if not chunk:
                raise OSError(errno.EIO, "the manifest spool ended early")
            out.write(chunk)
            remaining -= len(chunk)
        out.write(frame(HEAD_TAG, self.head) + trailer(start + section))
