"""The manifest of a backup set: what every member is and where its bytes are.

Since format 3 the manifest is a head and a stream of blocks (manifest_blocks.py): the
head names the set and holds the index's top; the entries, sorted by path, are read on
demand, so neither memory nor a lookup grows with the number of files. The manifest is
stored twice: inside the set, in zstd skippable frames after the tar stream (``zstd
-dc`` skips them, so ``zstd -dc SET | tar -x`` never writes it), and as a sidecar file
beside the set (``<set>.manifest.json``: the same blocks and head). ``frame_offset`` is
where the zstd frame that holds a member starts in the set file, ``header_offset`` and
``data_offset`` where the member's tar header and data start inside that frame's
decompressed bytes, so one file is read without decompressing what precedes it.

In an incremental set the manifest lists the whole point in time: entries whose
``set_id`` is an ancestor set were unchanged and are read from that set; ``deleted``
lists what disappeared since the parent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .entries import Entries, EntryList, EntryStream, PathStream
from .entry import PAGE_HASH, Entry, is_name, parse_entry
from .errors import DamagedSet, HostileSet
from .manifest_blocks import BlockSource, Tree, parse_tree
from .member_paths import ROOT, check_member_path, display_path

__all__ = ["PAGE_HASH", "Entry", "SetInfo", "SetManifest", "Totals", "head_document", "parse_manifest",
           "sidecar_path"]

FORMAT = "strongroom-set"
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # 1: the manifest was the tar stream's last member; 2: one JSON document
LEGACY_MANIFEST_MEMBER = ".strongroom-manifest.json"  # where version 1 sets kept it
SIDECAR_SUFFIX = ".manifest.json"
SET_SUFFIX = ".tar.zst"
MAX_MANIFEST_BYTES = 1 << 30  # a hostile format 2 sidecar must not exhaust memory
MAX_HEAD_BYTES = 16 << 20
MAX_NOTES = 1000  # warnings kept in a set's head; the job's log has them all


@dataclass(frozen=True)
class SetInfo:
    """What a set is, apart from its entries: given by the backup job, kept in the manifest's head."""

    set_id: str
    store: str
    store_type: str
    kind: str  # "full" | "incremental"
    parent: str | None
    created: str
    source: str
    compression_level: int = 3
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Totals:
    files: int = 0  # files this set's own tar stream holds
    bytes: int = 0  # their bytes (a page delta's, not the whole database's)
    store_bytes: int = 0  # what the store held at this point in time (unchanged files too)


@dataclass(frozen=True)
class SetManifest(SetInfo):
    """Everything about a set that the catalog, browse, verify and restore need."""

    entries: Entries = field(default_factory=lambda: EntryList(()))
    deleted: PathStream = field(default_factory=lambda: PathStream(None, None))
    manifest_frame_offset: int = 0  # where the manifest's frames start in the set file
    end_frame_offset: int | None = None  # the frame that holds only the tar end-of-archive blocks (version 2 on)
    totals: Totals = Totals()
    version: int = VERSION
    head: bytes = b""  # as stored: its digest is the one the catalog holds

    @property
    def own_entries(self) -> Iterator[Entry]:
        """The members this set's own tar stream holds, in set order."""
        return (entry for entry in self.entries if entry.set_id == self.set_id)

    @property
    def files(self) -> int:
        return self.totals.files

    @property
    def bytes(self) -> int:
        return self.totals.bytes

    @property
    def store_bytes(self) -> int:
        return self.totals.store_bytes

    def to_bytes(self) -> bytes:
        return self.head

    def digest(self) -> str:
        return hashlib.sha256(self.head).hexdigest()


def _totals(set_id: str, entries: Entries) -> Totals:
    files = stored = whole = 0
    for entry in entries:
        if entry.type == "file":
            whole += entry.size
            if entry.set_id == set_id:
                files += 1
                stored += entry.size if entry.delta is None else entry.delta
    return Totals(files, stored, whole)


def head_document(info: SetInfo, totals: Totals, entries: Tree, deleted: Tree, manifest_frame_offset: int,
                  end_frame_offset: int) -> bytes:
    """A format 3 manifest head."""
    notes = list(info.notes[:MAX_NOTES])
    if len(info.notes) > MAX_NOTES:
        notes.append(f"... and {len(info.notes) - MAX_NOTES} more warnings (see the job's log)")
    document = {
        "format": FORMAT, "version": VERSION, "set_id": info.set_id, "store": info.store,
        "store_type": info.store_type, "kind": info.kind, "parent": info.parent, "created": info.created,
        "source": info.source, "compression_level": info.compression_level,
        "manifest_frame_offset": manifest_frame_offset, "end_frame_offset": end_frame_offset, "notes": notes,
        "totals": {"files": totals.files, "bytes": totals.bytes, "store_bytes": totals.store_bytes},
        "entries": entries.document(), "deleted": deleted.document(),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def _parse_head(document: dict, data: bytes, origin: str, blocks: Callable[[int], BlockSource]) -> SetManifest:
    try:
        source = blocks(_offset(document["manifest_frame_offset"]))
        totals = document["totals"]
        if not isinstance(totals, dict) or set(totals) != {"files", "bytes", "store_bytes"} or \
                not all(type(value) is int and value >= 0 for value in totals.values()):
            raise ValueError("bad totals")
        entries_tree = parse_tree(document["entries"])
        deleted_tree = parse_tree(document["deleted"])
        manifest = SetManifest(
            set_id=_text(document["set_id"]), store=_text(document["store"]),
            store_type=_text(document["store_type"]), kind=_text(document["kind"]),
            parent=None if document.get("parent") is None else _text(document["parent"]),
            created=_text(document["created"]), source=_text(document["source"]),
            compression_level=_level(document["compression_level"]),
            notes=tuple(str(note) for note in document["notes"]),
            entries=EntryStream(source, entries_tree), deleted=PathStream(source, deleted_tree),
            manifest_frame_offset=_offset(document["manifest_frame_offset"]),
            end_frame_offset=_offset(document["end_frame_offset"]),
            totals=Totals(**totals), version=document["version"], head=bytes(data))
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is incomplete or malformed ({error!r})") from None
    return manifest


def sidecar_path(set_path: Path) -> Path:
    """Where a set's sidecar manifest lives; for a set still under its partial name, the sidecar's partial."""
    from ..leftovers import split_partial

    partial = split_partial(set_path)
    if partial is not None:
        final, tag = partial
        return set_path.with_name(f".{sidecar_path(set_path.with_name(final)).name}.{tag}")
    name = set_path.name
    stem = name[: -len(SET_SUFFIX)] if name.endswith(SET_SUFFIX) else name
    return set_path.with_name(stem + SIDECAR_SUFFIX)


def parse_manifest(data: bytes, origin: str, blocks: Callable[[int], BlockSource] | None = None) -> SetManifest:
    """Parse and check a manifest; ``origin`` names it in messages (a sidecar path, a set).

    ``data`` is a format 3 head (its entries are read when asked for from ``blocks(offset)``,
    given where the manifest's frames start in the set) or a whole format 1 or 2 document.
    """
    try:
        document = json.loads(data)
    except RecursionError:
        raise DamagedSet(f"the manifest {origin} is nested too deeply to be a manifest: the set cannot be read "
                         "from it") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is not valid JSON ({error}): the set cannot be read from it") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DamagedSet(f"{origin} is not a Strongroom set manifest")
    if document.get("version") not in READABLE_VERSIONS:
        raise DamagedSet(f"the manifest {origin} has format version {document.get('version')!r}; this Strongroom "
                         f"reads version {VERSION}: use a newer Strongroom")
    if document["version"] >= 3:
        if blocks is None:
            raise DamagedSet(f"the manifest {origin} is a format 3 head without its blocks")
        return _parse_head(document, data, origin, blocks)
    try:
        listed = tuple(parse_entry(raw) for raw in document["entries"])
        _check_tree(listed)
        entries = EntryList(listed)
        manifest = SetManifest(
            set_id=_text(document["set_id"]), store=_text(document["store"]),
            store_type=_text(document["store_type"]), kind=_text(document["kind"]),
            parent=None if document.get("parent") is None else _text(document["parent"]),
            created=_text(document["created"]), source=_text(document["source"]),
            entries=entries, deleted=PathStream(None, None, tuple(check_member_path(path)
                                                                for path in document.get("deleted", []))),
            compression_level=_level(document.get("compression_level", 3)),
            manifest_frame_offset=_offset(document["manifest_frame_offset"]),
            notes=tuple(str(note) for note in document.get("notes", [])),
            end_frame_offset=_offset(document.get("end_frame_offset")),
            totals=_totals(document["set_id"], entries), version=document["version"], head=bytes(data))
    except HostileSet:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is incomplete or malformed ({error!r})") from None
    return manifest


def _offset(value: object) -> int | None:
    if value is not None and (type(value) is not int or not 0 <= value < 2**63):
        raise ValueError(f"bad frame offset {value!r:.40}")
    return value


def _level(value: object) -> int:
    if type(value) is not int or not 1 <= value <= 22:
        raise ValueError(f"bad compression level {value!r:.40}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not is_name(value) or len(value) > 4096:
        raise TypeError(f"expected text, got {value!r:.80}")
    return value


def _check_tree(entries: tuple[Entry, ...]) -> None:
    """No path twice, nothing below a link or other non-folder (writing it would go through that), and
    every hard link names a file listed before it."""
    not_folders = {entry.path: entry.type for entry in entries if entry.type != "dir"}
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.path in seen:
            raise HostileSet(f"set member '{display_path(entry.path)}' appears twice: refusing to restore this set",
                             entry.path)
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            above = not_folders.get("/".join(parts[:depth]))
            if above is not None:
                what = "a link" if above in ("symlink", "hardlink") else f"a {above}"
                raise HostileSet(f"set member '{display_path(entry.path)}' lies below {what} in the same set, so "
                                 "writing it would go through it: refusing to restore this set", entry.path)
        if entry.type == "hardlink" and seen.get(entry.target or "") != "file":
            raise HostileSet(f"set member '{display_path(entry.path)}' is a hard link to "
                             f"'{display_path(entry.target or '')}', which is not a file stored before it: "
                             "refusing to restore this set", entry.path)
        seen[entry.path] = entry.type
    if entries and ROOT in seen and entries[0].path != ROOT:
        raise HostileSet("the store root is not the first member of the set: refusing to restore this set", ROOT)
