"""A manifest as a sorted stream of small blocks with a seek index (set format 3).

A manifest of a million entries cannot be one JSON document read whole: it would take
hundreds of megabytes to parse. Format 3 writes the entries, sorted by path (see
``sort_key``), in blocks of at most ``BLOCK_RECORDS`` records, each a zstd skippable
frame holding a compressed JSON array. Above them sits a small B-tree: index blocks of
at most ``FANOUT`` rows ``[first path, offset, length, records, sha256]``, one row per
block of the level below, up to a top level that the manifest head holds. A lookup reads
the head, one index block per level and one entry block: a few dozen KiB whatever the
set's size, and every block is checked against the SHA-256 its parent row holds, so the
head's digest (the catalog keeps it) vouches for every block.

Offsets are relative to the start of the manifest section, so the same bytes serve
inside the set file and as its sidecar.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from .errors import DamagedSet
from .member_paths import ROOT

BLOCK_RECORDS = 256
BLOCK_BYTES = 256 << 10  # a block also ends once its JSON passes this (large page-hash lists)
FANOUT = 256
MAX_BLOCK = 256 << 20  # decompressed: a hostile block must not exhaust memory
MAX_DEPTH = 8
BLOCK_MAGIC = 0x184D2A5A  # a zstd skippable-frame magic number: ``zstd -d`` skips these frames
ENTRIES_TAG = b"SRMENT03"
DELETED_TAG = b"SRMDEL03"
INDEX_TAG = b"SRMIDX03"
HEAD_TAG = b"SRMHEAD3"
_FRAME_HEAD = struct.Struct("<II8s")  # magic, payload size, tag


def sort_key(path: str) -> bytes:
    """The order of a manifest: the walk's (a folder, then what is in it, names by their bytes).

    The separator becomes NUL (which no name holds), so a folder's contents sort right
    after it and before any name that merely starts with the folder's name. The root is first.
    """
    if path == ROOT:
        return b""
    return path.encode("utf-8", "surrogateescape").replace(b"/", b"\0")


def after_subtree(key: bytes) -> bytes:
    """The smallest key past ``key`` and everything below it."""
    return key + b"\x01"


def frame(tag: bytes, data: bytes) -> bytes:
    """A skippable frame holding ``data`` compressed."""
    payload = tag + zstandard.ZstdCompressor(level=3).compress(data)
    return struct.pack("<II", BLOCK_MAGIC, len(payload)) + payload


def unframe(raw: bytes, tag: bytes, where: str) -> bytes:
    """The data of a skippable frame read whole; DamagedSet when it is not a ``tag`` frame."""
    if len(raw) < _FRAME_HEAD.size:
        raise DamagedSet(f"{where} is cut short")
    magic, size, found = _FRAME_HEAD.unpack_from(raw)
    if magic != BLOCK_MAGIC or found != tag or size != len(raw) - 8:
        raise DamagedSet(f"{where} is not a manifest block of the expected kind")
    try:
        return zstandard.ZstdDecompressor().decompress(raw[_FRAME_HEAD.size:], max_output_size=MAX_BLOCK)
    except zstandard.ZstdError as error:
        raise DamagedSet(f"{where} is damaged: {error}") from None


@dataclass(frozen=True)
class Row:
    """One block as its parent sees it."""

    first: str  # the path of the block's first record
    offset: int
    length: int
    records: int  # records in the block, or (index block) in every leaf below it
    sha256: str

    def document(self) -> list:
        return [self.first, self.offset, self.length, self.records, self.sha256]


def parse_row(raw: object) -> Row:
    if (not isinstance(raw, list) or len(raw) != 5 or not isinstance(raw[0], str) or
            not all(type(value) is int and 0 <= value < 2**63 for value in raw[1:4]) or
            not isinstance(raw[4], str) or len(raw[4]) != 64):
        raise DamagedSet(f"a manifest index row is malformed: {raw!r:.120}")
    return Row(*raw)


@dataclass(frozen=True)
class Tree:
    """Where a stream's blocks are: the top index rows and how many index levels lie below them."""

    records: int
    depth: int  # 0: the top rows point at record blocks
    top: tuple[Row, ...]

    def document(self) -> dict:
        return {"records": self.records, "depth": self.depth, "top": [row.document() for row in self.top]}


def parse_tree(raw: object) -> Tree:
    if not isinstance(raw, dict) or set(raw) != {"records", "depth", "top"}:
        raise DamagedSet("a manifest's index is malformed")
    records, depth, top = raw["records"], raw["depth"], raw["top"]
    if type(records) is not int or records < 0 or type(depth) is not int or not 0 <= depth <= MAX_DEPTH \
            or not isinstance(top, list) or len(top) > FANOUT:
        raise DamagedSet("a manifest's index is malformed")
    return Tree(records, depth, tuple(parse_row(row) for row in top))


class BlockWriter:
    """Writes one sorted stream of records as blocks, then its index; offsets relative to ``base``."""

    def __init__(self, out: BinaryIO, tag: bytes, base: int = 0) -> None:
        self._out = out
        self._tag = tag
        self._base = base
        self._pending: list = []
        self._pending_bytes = 0
        self._first = ""
        self._rows: list[Row] = []
        self.records = 0

    def add(self, path: str, record: object, size_hint: int = 200) -> None:
        if not self._pending:
            self._first = path
        self._pending.append(record)
        self._pending_bytes += size_hint
        self.records += 1
        if len(self._pending) >= BLOCK_RECORDS or self._pending_bytes >= BLOCK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = json.dumps(self._pending, separators=(",", ":"), ensure_ascii=True).encode()
        self._rows.append(self._write(self._tag, data, self._first, len(self._pending)))
        self._pending, self._pending_bytes = [], 0

    def _write(self, tag: bytes, data: bytes, first: str, records: int) -> Row:
        raw = frame(tag, data)
        offset = self._out.tell() - self._base
        self._out.write(raw)
        return Row(first, offset, len(raw), records, hashlib.sha256(raw).hexdigest())

    def finish(self) -> Tree:
        """Write what is pending and the index levels above FANOUT rows."""
        self._flush()
        rows, depth = self._rows, 0
        while len(rows) > FANOUT:
            upper = []
            for start in range(0, len(rows), FANOUT):
                group = rows[start:start + FANOUT]
                data = json.dumps([row.document() for row in group], separators=(",", ":")).encode()
                upper.append(self._write(INDEX_TAG, data, group[0].first, sum(row.records for row in group)))
            rows, depth = upper, depth + 1
        return Tree(self.records, depth, tuple(rows))


class BlockSource:
    """Reads the blocks of a manifest section from an open file, checked, with a small cache.

    It pickles without its file and cache (its opener must be picklable: a partial of a module
    function), so a child process can read the same section through a file of its own.
    """

    CACHE = 24

    def __init__(self, opener: Callable[[], BinaryIO], base: int, limit: int, origin: str) -> None:
        self._opener = opener
        self._fh: BinaryIO | None = None
        self.base = base
        self.limit = limit  # the section ends here (relative offsets must stay below it)
        self.origin = origin
        self._cache: OrderedDict[int, list[Row]] = OrderedDict()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fh": None, "_cache": OrderedDict()}

    def read_raw(self, offset: int, length: int) -> bytes:
        if offset + length > self.limit:
            raise DamagedSet(f"a manifest block of {self.origin} lies past the manifest's end (offset {offset})")
        if self._fh is None:
            self._fh = self._opener()
        self._fh.seek(self.base + offset)
        raw = self._fh.read(length)
        if len(raw) != length:
            raise DamagedSet(f"a manifest block of {self.origin} is cut short (offset {offset})")
        return raw

    def block(self, row: Row, tag: bytes) -> list:
        """The records of the block ``row`` points at, checked against the row."""
        where = f"the manifest block at offset {row.offset} of {self.origin}"
        raw = self.read_raw(row.offset, row.length)
        if hashlib.sha256(raw).hexdigest() != row.sha256:
            raise DamagedSet(f"{where} is damaged or was altered: its SHA-256 is not the one the manifest's index "
                             "holds")
        try:
            records = json.loads(unframe(raw, tag, where))
        except (ValueError, RecursionError):
            raise DamagedSet(f"{where} is not valid JSON") from None
        if not isinstance(records, list) or not records or (tag != INDEX_TAG and len(records) != row.records):
            raise DamagedSet(f"{where} does not hold the {row.records} records its index row says")
        return records

    def rows(self, row: Row) -> list[Row]:
        """The rows of an index block (cached: every lookup passes through the same few)."""
        cached = self._cache.get(row.offset)
        if cached is not None:
            self._cache.move_to_end(row.offset)
            return cached
        rows = [parse_row(raw) for raw in self.block(row, INDEX_TAG)]
        if rows[0].first != row.first or sum(item.records for item in rows) != row.records or \
                any(sort_key(a.first) >= sort_key(b.first) for a, b in zip(rows, rows[1:])):
            raise DamagedSet(f"the manifest index block at offset {row.offset} of {self.origin} does not match "
                             "its row")
        self._cache[row.offset] = rows
        if len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)
        return rows


def leaf_rows(source: BlockSource, tree: Tree, key: bytes | None = None, *, reverse: bool = False) -> Iterator[Row]:
    """The record blocks in order (or reversed), from the one that would hold ``key`` (all without one)."""

    def walk(rows: tuple[Row, ...] | list[Row], depth: int, key: bytes | None) -> Iterator[Row]:
        start = 0
        if key is not None:
            start = max(0, bisect.bisect_right([sort_key(row.first) for row in rows], key) - 1)
        if key is None and reverse:
            start = len(rows) - 1
        order = range(start, -1, -1) if reverse else range(start, len(rows))
        for number in order:
            row = rows[number]
            if depth == 0:
                yield row
            else:
                yield from walk(source.rows(row), depth - 1, key if number == start else None)

    return walk(tree.top, tree.depth, key)


def all_frames(source: BlockSource, tree: Tree) -> Iterator[Row]:
    """Every block of a stream, index blocks included (for verify: they must tile the section)."""

    def walk(rows, depth):
        for row in rows:
            yield row
            if depth:
                yield from walk(source.rows(row), depth - 1)

    return walk(tree.top, tree.depth)


def frame_tag(fh: BinaryIO, start: int) -> bytes | None:
    """The tag of the manifest frame at ``start``, or None when no manifest frame starts there."""
    fh.seek(start)
    head = fh.read(_FRAME_HEAD.size)
    if len(head) < _FRAME_HEAD.size:
        return None
    magic, _, tag = _FRAME_HEAD.unpack(head)
    return tag if magic == BLOCK_MAGIC else None
