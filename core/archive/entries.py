"""The entries of a point in time, sorted by path: walked, looked up and listed by folder.

Two kinds hold them: ``EntryList`` (in memory: the small manifests of format 1 and 2
sets, and tests) and ``EntryStream`` (format 3: blocks read on demand through the
manifest's index, so memory does not grow with the number of files). Both offer the
same reads, all in ``sort_key`` order: a whole walk (checked as it goes: no path twice,
nothing below a link or other non-folder, every hard link after its file), ``find``,
``below`` (a member and everything under it), ``children`` (one folder's listing,
jumping over sub-folders' contents) and ``cursor`` (lookups in increasing order, a
merge with a walk of the store).
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator

from .entry import Entry, parse_entry
from .errors import DamagedSet, HostileSet
from .manifest_blocks import DELETED_TAG, ENTRIES_TAG, BlockSource, Row, Tree, after_subtree, leaf_rows, sort_key
from .member_paths import check_member_path, display_path

Keyed = Iterator[tuple[bytes, Entry]]


class Entries(ABC):
    """A sorted, re-readable sequence of entries."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def keyed_from(self, key: bytes | None = None, *, reverse: bool = False) -> Keyed:
        """(key, entry) pairs from the first key at or after ``key``; reversed, those before ``key``, last first
        (all of them without a key)."""

    def __iter__(self) -> Iterator[Entry]:
        for _, entry in checked(self.keyed_from(), self):
            yield entry

    def reversed(self) -> Iterator[Entry]:
        """Every entry, last first: a folder comes after everything in it."""
        for _, entry in self.keyed_from(reverse=True):
            yield entry

    def find(self, path: str) -> Entry | None:
        key = sort_key(path)
        for found, entry in self.keyed_from(key):
            return entry if found == key else None
        return None

    def below(self, path: str, *, reverse: bool = False) -> Iterator[Entry]:
        """The entry at ``path`` (if any) and every entry under it (checked as a whole walk is)."""
        key = sort_key(path)
        if not key:
            yield from self.reversed() if reverse else self
            return
        parts = path.split("/")
        for depth in range(1, len(parts)):
            above = self.find("/".join(parts[:depth]))
            if above is not None and above.type != "dir":
                raise HostileSet(f"set member '{display_path(path)}' lies below a {above.type} in the same set, so "
                                 "writing it would go through it: refusing to restore this set", path)
        inside = key + b"\0"
        pairs = self.keyed_from(after_subtree(key), reverse=True) if reverse else checked(self.keyed_from(key), self)
        for found, entry in pairs:
            if found != key and not found.startswith(inside):
                return
            yield entry

    def children(self, path: str) -> Iterator[Entry]:
        """What the folder at ``path`` holds directly, in order; sub-folders' contents are jumped over."""
        base = sort_key(path)
        prefix = base + b"\0" if base else b""
        pairs = self.keyed_from(prefix or b"\x00")
        while True:
            for found, entry in pairs:
                if not found.startswith(prefix):
                    return
                separator = found.find(b"\0", len(prefix))
                if separator < 0:
                    yield entry
                    continue
                pairs = self.keyed_from(after_subtree(found[:separator]))
                break
            else:
                return

    def cursor(self) -> Cursor:
        return Cursor(self)


def checked(pairs: Keyed, entries: Entries) -> Keyed:
    """A whole walk, refused as hostile where a restore would go astray."""
    last: bytes | None = None
    blocking: bytes | None = None  # the last non-folder: nothing may lie below it
    blocking_type = ""
    for key, entry in pairs:
        if last is not None and key <= last:
            raise _out_of_order(entry)
        if blocking is not None and key.startswith(blocking + b"\0"):
            what = "a link" if blocking_type in ("symlink", "hardlink") else f"a {blocking_type}"
            raise HostileSet(f"set member '{display_path(entry.path)}' lies below {what} in the same set, so writing "
                             "it would go through it: refusing to restore this set", entry.path)
        if entry.type != "dir":
            blocking, blocking_type = key, entry.type
        if entry.type == "hardlink":
            check_hard_link(entry, key, entries)
        last = key
        yield key, entry


def _out_of_order(entry: Entry) -> HostileSet:
    return HostileSet(f"set member '{display_path(entry.path)}' appears twice or out of order in the manifest (which "
                      "Strongroom never writes): refusing to restore this set", entry.path)


def check_hard_link(entry: Entry, key: bytes, entries: Entries) -> Entry:
    """The file a hard link names: stored before it, or HostileSet."""
    target = entry.target or ""
    holder = entries.find(target) if sort_key(target) < key else None
    if holder is None or holder.type != "file":
        raise HostileSet(f"set member '{display_path(entry.path)}' is a hard link to '{display_path(target)}', "
                         "which is not a file stored before it: refusing to restore this set", entry.path)
    return holder


class EntryList(Entries):
    """Entries held in memory (sets of format 1 and 2, whose manifest is one document)."""

    def __init__(self, entries) -> None:
        pairs = sorted(((sort_key(entry.path), entry) for entry in entries), key=lambda pair: pair[0])
        self._keys = [key for key, _ in pairs]
        self._entries = [entry for _, entry in pairs]

    def __len__(self) -> int:
        return len(self._entries)

    def keyed_from(self, key: bytes | None = None, *, reverse: bool = False) -> Keyed:
        if reverse:
            end = len(self._keys) if key is None else bisect.bisect_left(self._keys, key)
            return zip(reversed(self._keys[:end]), reversed(self._entries[:end]))
        start = 0 if key is None else bisect.bisect_left(self._keys, key)
        return zip(self._keys[start:], self._entries[start:])


class EntryStream(Entries):
    """Entries read block by block from a manifest section (format 3)."""

    CACHE = 8

    def __init__(self, source: BlockSource, tree: Tree) -> None:
        self.source = source
        self.tree = tree
        self._blocks: OrderedDict[int, tuple[list[bytes], list[Entry]]] = OrderedDict()

    def __len__(self) -> int:
        return self.tree.records

    def keyed_from(self, key: bytes | None = None, *, reverse: bool = False) -> Keyed:
        previous: bytes | None = None
        first = True
        for row in leaf_rows(self.source, self.tree, key, reverse=reverse):
            keys, entries = self._block(row)
            if previous is not None and (keys[-1] >= previous if reverse else keys[0] <= previous):
                raise _out_of_order(entries[-1 if reverse else 0])
            previous = keys[0] if reverse else keys[-1]
            bound = first and key is not None
            first = False
            if reverse:
                end = bisect.bisect_left(keys, key) if bound else len(keys)
                yield from zip(reversed(keys[:end]), reversed(entries[:end]))
                continue
            start = bisect.bisect_left(keys, key) if bound else 0
            yield from zip(keys[start:], entries[start:])

    def _block(self, row: Row) -> tuple[list[bytes], list[Entry]]:
        cached = self._blocks.get(row.offset)
        if cached is not None:
            self._blocks.move_to_end(row.offset)
            return cached
        try:
            entries = [parse_entry(raw) for raw in self.source.block(row, ENTRIES_TAG)]
        except HostileSet:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise DamagedSet(f"the manifest of {self.source.origin} holds a malformed entry ({error})") from None
        keys = [sort_key(entry.path) for entry in entries]
        if entries[0].path != row.first:
            raise DamagedSet(f"a manifest block of {self.source.origin} is not the one its index names")
        for number in range(1, len(keys)):
            if keys[number - 1] >= keys[number]:
                raise _out_of_order(entries[number])
        self._blocks[row.offset] = (keys, entries)
        if len(self._blocks) > self.CACHE:
            self._blocks.popitem(last=False)
        return keys, entries


class PathStream:
    """The paths deleted since the parent set, read block by block."""

    def __init__(self, source: BlockSource | None, tree: Tree | None, paths: tuple[str, ...] = ()) -> None:
        self.source, self.tree, self._paths = source, tree, paths

    def __len__(self) -> int:
        return self.tree.records if self.tree is not None else len(self._paths)

    def __iter__(self) -> Iterator[str]:
        if self.tree is None:
            yield from self._paths
            return
        for row in leaf_rows(self.source, self.tree):
            for path in self.source.block(row, DELETED_TAG):
                yield check_member_path(path)


class Cursor:
    """Lookups in increasing path order, each reading on from the one before: a merge of two sorted walks.

    A lookup out of order (a driver that walks differently) falls back on ``find``;
    ``skipped`` collects the entries a lookup went past (in a backup: deleted since).
    """

    def __init__(self, entries: Entries) -> None:
        self._entries = entries
        self._pairs: Keyed | None = None
        self._current: tuple[bytes, Entry] | None = None
        self._last = b""
        self._started = False
        self._done = False

    def get(self, path: str, skipped: list[Entry] | None = None) -> Entry | None:
        key = sort_key(path)
        if self._started and key < self._last:
            return self._entries.find(path)
        self._last = key
        if not self._started:
            self._started = True
            self._pairs = self._entries.keyed_from()
            self._advance()
        while self._current is not None and self._current[0] < key:
            if skipped is not None:
                skipped.append(self._current[1])
            self._advance()
        if self._current is not None and self._current[0] == key:
            found = self._current[1]
            self._advance()  # taken: what a later lookup goes past is only what this walk does not have
            return found
        return None

    def rest(self) -> Iterator[Entry]:
        """What lies past the last lookup (for a merge's end: deleted since)."""
        if not self._started:
            yield from self._entries
            return
        if self._current is not None:
            yield self._current[1]
        if self._pairs is not None:
            for _, entry in self._pairs:
                yield entry

    def _advance(self) -> None:
        self._current = next(self._pairs, None) if self._pairs is not None else None
