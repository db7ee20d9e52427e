"""The manifest of a backup set: what every member is and where its bytes are.

The manifest is stored twice: as the last member of the set's tar stream and as a
sidecar file beside the set (``<set>.manifest.json``). With it one file can be read
without decompressing what precedes it: ``frame_offset`` is where the zstd frame that
holds the member starts in the set file, ``header_offset`` and ``data_offset`` are
where the member's tar header and data start inside that frame's decompressed bytes.

In an incremental set the manifest lists the whole point in time: entries whose
``set_id`` is an ancestor set were unchanged and are read from that set; ``deleted``
lists what disappeared since the parent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import DamagedSet, HostileSet
from .member_paths import check_link_target, check_member_path, check_member_type

FORMAT = "strongroom-set"
VERSION = 1
MANIFEST_MEMBER = ".strongroom-manifest.json"
SIDECAR_SUFFIX = ".manifest.json"
SET_SUFFIX = ".tar.zst"
MAX_MANIFEST_BYTES = 1 << 30  # a hostile sidecar must not exhaust memory


@dataclass(frozen=True)
class Entry:
    """One member of a point in time: a file, folder or symbolic link."""

    path: str
    type: str
    mode: int
    mtime_ns: int
    size: int = 0
    sha256: str | None = None
    target: str | None = None  # symlinks only
    uid: int = 0
    gid: int = 0
    ino: int = 0
    ctime_ns: int = 0
    set_id: str = ""  # the set whose tar stream holds this member
    frame_offset: int = 0
    header_offset: int = 0
    data_offset: int = 0

    def public_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value is not None}

    def same_state(self, other: Entry) -> bool:
        """True when a file looks unchanged since ``other`` (the incremental test)."""
        return (self.type == other.type and self.size == other.size and self.mtime_ns == other.mtime_ns
                and self.ino == other.ino and self.ctime_ns == other.ctime_ns and self.target == other.target
                and self.mode == other.mode)


_ENTRY_NAMES = tuple(f.name for f in fields(Entry))
_ENTRY_FIELDS = set(_ENTRY_NAMES)


@dataclass(frozen=True)
class SetManifest:
    """Everything about a set that the catalog, browse, verify and restore need."""

    set_id: str
    store: str
    store_type: str
    kind: str  # "full" | "incremental"
    parent: str | None
    created: str
    source: str
    entries: tuple[Entry, ...]
    deleted: tuple[str, ...] = ()
    compression_level: int = 3
    manifest_frame_offset: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def own_entries(self) -> tuple[Entry, ...]:
        """The members this set's own tar stream holds."""
        return tuple(entry for entry in self.entries if entry.set_id == self.set_id)

    @property
    def files(self) -> int:
        return sum(1 for entry in self.own_entries if entry.type == "file")

    @property
    def bytes(self) -> int:
        return sum(entry.size for entry in self.own_entries if entry.type == "file")

    @property
    def store_bytes(self) -> int:
        """What the store held at this point in time (an incremental set's unchanged files too)."""
        return sum(entry.size for entry in self.entries if entry.type == "file")

    def to_bytes(self) -> bytes:
        """The manifest as stored (computed once: a frozen manifest never changes)."""
        cached = self.__dict__.get("_bytes")
        if cached is None:
            cached = self._serialize()
            object.__setattr__(self, "_bytes", cached)
        return cached

    def _serialize(self) -> bytes:
        document = {
            "format": FORMAT, "version": VERSION, "set_id": self.set_id, "store": self.store,
            "store_type": self.store_type, "kind": self.kind, "parent": self.parent, "created": self.created,
            "source": self.source, "compression_level": self.compression_level,
            "manifest_frame_offset": self.manifest_frame_offset, "notes": list(self.notes),
            "deleted": list(self.deleted), "entries": [entry.public_dict() for entry in self.entries],
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()


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


def parse_manifest(data: bytes, origin: str) -> SetManifest:
    """Parse and check a manifest; ``origin`` names it in messages (a sidecar path, a set)."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is not valid JSON ({error}): the set cannot be read from it") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DamagedSet(f"{origin} is not a Strongroom set manifest")
    if document.get("version") != VERSION:
        raise DamagedSet(f"the manifest {origin} has format version {document.get('version')!r}; this Strongroom "
                         f"reads version {VERSION}: use a newer Strongroom")
    try:
        entries = tuple(_parse_entry(raw) for raw in document["entries"])
        manifest = SetManifest(
            set_id=_text(document["set_id"]), store=_text(document["store"]),
            store_type=_text(document["store_type"]), kind=_text(document["kind"]),
            parent=document.get("parent"), created=_text(document["created"]), source=_text(document["source"]),
            entries=entries, deleted=tuple(check_member_path(path) for path in document.get("deleted", [])),
            compression_level=int(document.get("compression_level", 3)),
            manifest_frame_offset=int(document["manifest_frame_offset"]),
            notes=tuple(str(note) for note in document.get("notes", [])),
        )
    except HostileSet:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is incomplete or malformed ({error!r})") from None
    _check_tree(manifest)
    return manifest


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _parse_entry(raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise TypeError(f"entry {raw!r} is not an object")
    unknown = set(raw) - _ENTRY_FIELDS
    if unknown:
        raise TypeError(f"entry has unknown fields {sorted(unknown)}")
    path = check_member_path(raw.get("path"))
    check_member_type(path, raw.get("type"))
    entry = Entry(**raw)
    for name in ("mode", "mtime_ns", "size", "uid", "gid", "ino", "ctime_ns", "frame_offset", "header_offset",
                 "data_offset"):
        value = getattr(entry, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"entry {path!r} has a bad {name}: {value!r}")
    if entry.type == "symlink":
        check_link_target(path, entry.target)
    if entry.type == "file" and not (isinstance(entry.sha256, str) and len(entry.sha256) == 64):
        raise ValueError(f"file entry {path!r} has no SHA-256")
    return entry


def _check_tree(manifest: SetManifest) -> None:
    """No path twice, and nothing below a link (it would be written through the link)."""
    seen: set[str] = set()
    links = {entry.path for entry in manifest.entries if entry.type == "symlink"}
    for entry in manifest.entries:
        if entry.path in seen:
            raise HostileSet(f"set member {entry.path!r} appears twice: refusing to restore this set", entry.path)
        seen.add(entry.path)
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in links:
                raise HostileSet(f"set member {entry.path!r} lies below a link in the same set, so writing it would "
                                 "follow the link: refusing to restore this set", entry.path)
