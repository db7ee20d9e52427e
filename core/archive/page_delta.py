"""Page deltas: a database file stored as the pages that changed since the set's parent.

A database is a sequence of fixed-size pages (SQLite's page size is in its header). A set
keeps a 16-byte BLAKE2b hash of every page of the file in the manifest entry; the next
incremental set compares the new copy's hashes with those and stores only the pages that
differ, as records of an 8-byte big-endian page number and the page's bytes, in a member
named ``<file>.pages`` (so ``tar -x`` never mistakes it for the database itself).

Restoring such an entry rebuilds the file: the nearest full copy up the chain of parents,
then each delta in order, oldest first, each cutting the file to its own size.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Protocol

from .errors import DamagedSet
from .manifest import PAGE_HASH, Entry, SetManifest
from .member_paths import display_path
from .reader import SetReader

DELTA_SUFFIX = ".pages"
_NUMBER = struct.Struct(">Q")
CHUNK = 1 << 20


def page_hashes(read_at: Callable[[int, int], bytes], size: int, page_size: int) -> bytes:
    """The hash of every page of a file of ``size`` bytes, read with ``read_at(offset, length)``."""
    hashes = bytearray()
    per_read = max(1, CHUNK // page_size)
    for offset in range(0, size, per_read * page_size):
        block = read_at(offset, min(per_read * page_size, size - offset))
        for start in range(0, len(block), page_size):
            hashes += hashlib.blake2b(block[start:start + page_size], digest_size=PAGE_HASH).digest()
    return bytes(hashes)


def changed_pages(hashes: bytes, previous: bytes) -> list[int]:
    """The numbers of the pages whose hash differs from the previous state's (or that are new)."""
    count = len(hashes) // PAGE_HASH
    known = len(previous) // PAGE_HASH
    return [number for number in range(count)
            if number >= known or hashes[number * PAGE_HASH:(number + 1) * PAGE_HASH]
            != previous[number * PAGE_HASH:(number + 1) * PAGE_HASH]]


def delta_size(pages: list[int], page_size: int) -> int:
    return len(pages) * (_NUMBER.size + page_size)


def delta_records(read_at: Callable[[int, int], bytes], pages: list[int], page_size: int) -> Iterator[bytes]:
    """The stored bytes of a delta: each changed page's number, then its bytes."""
    for number in pages:
        page = read_at(number * page_size, page_size)
        if len(page) != page_size:
            raise OSError(f"page {number} could not be read whole")
        yield _NUMBER.pack(number) + page


def logical_path(entry: Entry) -> str:
    """The file a member stands for: a delta member's name without its suffix."""
    return entry.path.removesuffix(DELTA_SUFFIX) if entry.delta is not None else entry.path


class SetAccess(Protocol):
    """How a restore reaches the sets a point in time is made of."""

    def open(self, set_id: str) -> SetReader: ...

    def manifest(self, set_id: str) -> SetManifest: ...


def rebuild(target: BinaryIO, entry: Entry, chunks: Iterable[bytes], sets: SetAccess,
            advance: Callable[[int], None]) -> None:
    """Write into ``target`` the file that the delta ``entry`` (whose stored bytes are ``chunks``) stands for."""
    chain = [entry]
    while chain[-1].delta is not None:
        manifest = sets.manifest(chain[-1].set_id)
        if manifest.parent is None:
            raise DamagedSet(f"member '{display_path(entry.path)}' is a page delta of set {manifest.set_id}, which "
                             "has no parent to apply it to", (entry.path,))
        name = logical_path(chain[-1])
        earlier = next((item for item in sets.manifest(manifest.parent).entries if logical_path(item) == name), None)
        if earlier is None or earlier.pages is None or earlier.pages[0] != entry.pages[0]:
            raise DamagedSet(f"set {manifest.parent} holds no earlier state of '{display_path(name)}' for the page "
                             f"delta of set {manifest.set_id} to apply to", (entry.path,))
        chain.append(earlier)
    full = chain.pop()
    with sets.open(full.set_id) as reader:
        for _, data in reader.read_members([full]):
            for chunk in data:
                target.write(chunk)
                advance(len(chunk))
    target.truncate(full.size)
    for delta in reversed(chain):
        if delta is entry:
            _apply(target, delta, chunks, advance)
        else:
            with sets.open(delta.set_id) as reader:
                for _, data in reader.read_members([delta]):
                    _apply(target, delta, data, advance)
        target.truncate(delta.size)


def _apply(target: BinaryIO, delta: Entry, chunks: Iterable[bytes], advance: Callable[[int], None]) -> None:
    page_size = delta.pages[0] if delta.pages else 0
    record = _NUMBER.size + page_size
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        advance(len(chunk))
        whole = len(pending) - len(pending) % record
        for start in range(0, whole, record):
            (number,) = _NUMBER.unpack_from(pending, start)
            if (number + 1) * page_size > delta.size:
                raise DamagedSet(f"member '{display_path(delta.path)}' names page {number}, past the file's end",
                                 (delta.path,))
            target.seek(number * page_size)
            target.write(pending[start + _NUMBER.size:start + record])
        del pending[:whole]
    if pending:
        raise DamagedSet(f"member '{display_path(delta.path)}' ends inside a page record", (delta.path,))
