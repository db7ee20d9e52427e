"""A database dump as set members: streamed from the dump tool in parts, read back whole and in order.

A tar member's size comes before its data, and a dump's size is known only at its end, so
the dump tool's output is cut into parts of at most ``PART_BYTES`` (``dump/<file>.000000``,
``dump/<file>.000001``, ...). One part at a time is held in memory while it is written;
meanwhile a thread goes on reading the tool (server_tools.StreamedOutput) and the set's
compressor runs in its own, so dumping, hashing and compressing overlap as they do in
``pg_dump | zstd`` — no scratch copy of the dump on disk. ``server.json`` records how many
parts there are and their total size, so a missing or cut part is found without a server.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator

from ..archive import Entry
from ..archive.entry import new_entry
from .base import SnapshotSession, StoreError

PART_BYTES = 16 << 20
_PART = re.compile(r"^dump/(?P<file>[^/]+)\.(?P<number>\d{6})$")


def part_name(dump_file: str, number: int) -> str:
    return f"dump/{dump_file}.{number:06d}"


def write_parts(chunks: Iterable[bytes], dump_file: str, session: SnapshotSession) -> tuple[int, int]:
    """Store the dump tool's output in the set as parts; (number of parts, bytes)."""
    uid, gid = os.geteuid(), os.getegid()
    session.add(session.writer.add_bodiless(new_entry(path="dump", type="dir", mode=0o700, mtime_ns=time.time_ns(),
                                                      uid=uid, gid=gid)))
    pending: list[memoryview] = []
    size = parts = total = 0

    def store() -> None:
        nonlocal pending, size, parts
        name = part_name(dump_file, parts)
        meta = new_entry(path=name, type="file", mode=0o600, mtime_ns=time.time_ns(), size=size, uid=uid, gid=gid)
        entry, _ = session.writer.add_stream(meta, pending)
        session.add(entry)
        session.file_done(name)
        pending, size, parts = [], 0, parts + 1

    for chunk in chunks:
        view = memoryview(chunk)
        session.advance(len(view))
        total += len(view)
        while view:
            piece = view[: PART_BYTES - size]
            pending.append(piece)
            size += len(piece)
            view = view[len(piece):]
            if size == PART_BYTES:
                store()
    if size or not parts:
        store()
    return parts, total


def dump_parts(files: list[Entry], dump_file: str, info: dict) -> list[Entry]:
    """The set's dump parts in order; StoreError when one is missing, extra, or not the size recorded."""
    found: dict[int, Entry] = {}
    for entry in files:
        match = _PART.match(entry.path)
        if match is None:
            continue
        if match["file"] != dump_file:
            raise StoreError(f"the set member {entry.path} is not part of a {dump_file} dump: the set is not a "
                             "dump this store type made")
        found[int(match["number"])] = entry
    expected = info.get("parts")
    if not isinstance(expected, int) or not isinstance(info.get("dump_bytes"), int):
        raise StoreError("the set's server.json does not say how many parts its dump has: it was not made by this "
                         "version of Strongroom, or it was altered")
    missing = [number for number in range(expected) if number not in found]
    if missing:
        raise StoreError(f"the dump is not whole: part {part_name(dump_file, missing[0])} of {expected} is missing")
    if len(found) != expected:
        raise StoreError(f"the set holds {len(found)} dump parts where its server.json records {expected}")
    parts = [found[number] for number in range(expected)]
    size = sum(entry.size for entry in parts)
    if size != info["dump_bytes"]:
        raise StoreError(f"the dump's parts hold {size} bytes where its server.json records {info['dump_bytes']}: "
                         "the dump is not whole")
    return parts


def part_chunks(contents, parts: list[Entry], hooks=None) -> Iterator[bytes]:
    """The whole dump's bytes, part after part, each checked against its checksum as it is read."""
    for entry in parts:
        yield from contents.chunks(entry, hooks)
