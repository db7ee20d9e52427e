"""The manifest of a backup set: what every member is and where its bytes are.

The manifest is stored twice: inside the set, in zstd skippable frames after the tar
stream (``zstd -dc`` skips them, so ``zstd -dc SET | tar -x`` never writes it into the
restored tree), and as a sidecar file beside the set (``<set>.manifest.json``). With
it one file can be read
without decompressing what precedes it: ``frame_offset`` is where the zstd frame that
holds the member starts in the set file, ``header_offset`` and ``data_offset`` are
where the member's tar header and data start inside that frame's decompressed bytes.

In an incremental set the manifest lists the whole point in time: entries whose
``set_id`` is an ancestor set were unchanged and are read from that set; ``deleted``
lists what disappeared since the parent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import tar_format
from .errors import DamagedSet, HostileSet
from .member_paths import ROOT, check_link_target, display_path, check_member_path, check_member_type

FORMAT = "strongroom-set"
VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: the manifest was the tar stream's last member
LEGACY_MANIFEST_MEMBER = ".strongroom-manifest.json"  # where version 1 sets kept it
SIDECAR_SUFFIX = ".manifest.json"
SET_SUFFIX = ".tar.zst"
MAX_MANIFEST_BYTES = 1 << 30  # a hostile sidecar must not exhaust memory


@dataclass(frozen=True)
class Entry:
    """One member of a point in time: a file, folder, link (symbolic or hard) or FIFO."""

    path: str  # "." is the store root; names keep every byte (surrogateescape)
    type: str
    mode: int
    mtime_ns: int  # may be negative (before 1970)
    size: int = 0  # a file's real size (a sparse file's too)
    sha256: str | None = None  # of the member's data as stored (a sparse file's map and data regions)
    target: str | None = None  # a symbolic link's target; a hard link's: the path that holds the data
    uid: int = 0
    gid: int = 0
    user: str | None = None
    group: str | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()  # every extended attribute, POSIX ACLs included
    sparse: tuple[tuple[int, int], ...] | None = None  # data regions (offset, length) of a sparse file
    pages: tuple[int, bytes] | None = None  # a database file: (page size, a 16-byte hash of every page, in order)
    delta: int | None = None  # stored bytes when the member holds only the pages changed since the set's parent
    ino: int = 0
    ctime_ns: int = 0
    set_id: str = ""  # the set whose tar stream holds this member
    frame_offset: int = 0
    header_offset: int = 0
    data_offset: int = 0

    @property
    def stored_size(self) -> int:
        """Bytes of data this member has in its set's tar stream."""
        if self.delta is not None:
            return self.delta
        return tar_format.stored_size(self.type, self.size, self.sparse)

    def head(self) -> tar_format.MemberHead:
        """What this entry's tar header says."""
        return tar_format.MemberHead(
            path=self.path, kind=self.type, mode=self.mode, mtime_ns=self.mtime_ns, stored=self.stored_size,
            target=self.target or "", uid=self.uid, gid=self.gid, user=self.user, group=self.group,
            xattrs=self.xattrs, sparse=self.sparse, size=self.size)

    def public_dict(self) -> dict:
        document = {key: value for key, value in self.__dict__.items() if value is not None and value != ()}
        if self.xattrs:
            document["xattrs"] = {name: base64.b64encode(value).decode() for name, value in self.xattrs}
        if self.sparse is not None:
            document["sparse"] = [list(region) for region in self.sparse]
        if self.pages is not None:
            document["pages"] = {"page_size": self.pages[0], "hashes": base64.b64encode(self.pages[1]).decode()}
        return document


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
    end_frame_offset: int | None = None  # the frame that holds only the tar end-of-archive blocks (version 2)

    @property
    def own_entries(self) -> tuple[Entry, ...]:
        """The members this set's own tar stream holds."""
        return tuple(entry for entry in self.entries if entry.set_id == self.set_id)

    @property
    def files(self) -> int:
        return sum(1 for entry in self.own_entries if entry.type == "file")

    @property
    def bytes(self) -> int:
        """The file bytes this set's own tar stream holds (a page delta's, not the whole database's)."""
        return sum(entry.size if entry.delta is None else entry.delta for entry in self.own_entries
                   if entry.type == "file")

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
            "manifest_frame_offset": self.manifest_frame_offset, "end_frame_offset": self.end_frame_offset,
            "notes": list(self.notes),
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
    try:
        entries = tuple(_parse_entry(raw) for raw in document["entries"])
        manifest = SetManifest(
            set_id=_text(document["set_id"]), store=_text(document["store"]),
            store_type=_text(document["store_type"]), kind=_text(document["kind"]),
            parent=None if document.get("parent") is None else _text(document["parent"]),
            created=_text(document["created"]), source=_text(document["source"]),
            entries=entries, deleted=tuple(check_member_path(path) for path in document.get("deleted", [])),
            compression_level=_level(document.get("compression_level", 3)),
            manifest_frame_offset=_offset(document["manifest_frame_offset"]),
            notes=tuple(str(note) for note in document.get("notes", [])),
            end_frame_offset=_offset(document.get("end_frame_offset")),
        )
    except HostileSet:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedSet(f"the manifest {origin} is incomplete or malformed ({error!r})") from None
    _check_tree(manifest)
    object.__setattr__(manifest, "_bytes", bytes(data))  # as stored: its digest is the one the catalog holds
    return manifest


def _offset(value: object) -> int | None:
    if value is not None and (type(value) is not int or not _OFF_T[0] <= value <= _OFF_T[1]):
        raise ValueError(f"bad frame offset {value!r:.40}")
    return value


def _level(value: object) -> int:
    if type(value) is not int or not 1 <= value <= 22:
        raise ValueError(f"bad compression level {value!r:.40}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not _is_name(value) or len(value) > 4096:
        raise TypeError(f"expected text, got {value!r:.80}")
    return value


_NS = 1_000_000_000
_TIME_RANGE = (-62_135_596_800 * _NS, 253_402_300_799 * _NS)  # years 1 to 9999: what time_t and dates can show
_OFF_T = (0, 2**63 - 1)
# Every number within what the file system and the tools can hold: a hostile manifest gets a clear refusal,
# never an overflow half-way through a restore.
_RANGES = {"mode": (0, 0o7777), "mtime_ns": _TIME_RANGE, "ctime_ns": _TIME_RANGE, "size": _OFF_T,
           "uid": (0, 2**32 - 2), "gid": (0, 2**32 - 2), "ino": (0, 2**64 - 1), "frame_offset": _OFF_T,
           "header_offset": _OFF_T, "data_offset": _OFF_T}


def _parse_entry(raw: object) -> Entry:
    if not isinstance(raw, dict):
        raise TypeError(f"entry {raw!r} is not an object")
    unknown = set(raw) - _ENTRY_FIELDS
    if unknown:
        raise TypeError(f"entry has unknown fields {sorted(unknown)}")
    path = check_member_path(raw.get("path"))
    kind = check_member_type(path, raw.get("type"))
    values = dict(raw)
    xattrs = values.get("xattrs", {})
    if not isinstance(xattrs, dict) or not all(isinstance(name, str) and isinstance(value, str)
                                               for name, value in xattrs.items()):
        raise ValueError(f"entry '{display_path(path)}' has malformed extended attributes")
    values["xattrs"] = tuple(sorted((name, base64.b64decode(value, validate=True)) for name, value in xattrs.items()))
    if "sparse" in values:
        values["sparse"] = _regions(path, values["sparse"], values.get("size"))
    if "pages" in values:
        values["pages"] = _pages(path, values["pages"], values.get("size"))
    entry = Entry(**values)
    if entry.delta is not None and (type(entry.delta) is not int or not 0 <= entry.delta <= _OFF_T[1]
                                    or entry.pages is None):
        raise ValueError(f"entry '{display_path(path)}' has a bad page delta")
    for name, (low, high) in _RANGES.items():
        value = getattr(entry, name)
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"entry '{display_path(path)}' has a {name} out of range: {value!r}")
    for name in ("user", "group", "target", "sha256", "set_id"):
        value = getattr(entry, name)
        if value is not None and not (isinstance(value, str) and _is_name(value)):
            raise ValueError(f"entry '{display_path(path)}' has a bad {name}")
    if not all(_is_name(name) for name, _ in entry.xattrs):
        raise ValueError(f"entry '{display_path(path)}' has a bad extended attribute name")
    if kind in ("symlink", "hardlink"):
        check_link_target(path, entry.target)
    if kind == "file" and not (isinstance(entry.sha256, str) and len(entry.sha256) == 64):
        raise ValueError(f"file entry '{display_path(path)}' has no SHA-256")
    if entry.sparse is not None and kind != "file":
        raise ValueError(f"entry '{display_path(path)}' is a {kind} with a sparse map")
    return entry


def _is_name(text: str) -> bool:
    """Text that stands for bytes on disk: UTF-8, or undecodable bytes as surrogateescape keeps them."""
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no name on disk can have
        return False
    return "\0" not in text


PAGE_HASH = 16  # bytes of BLAKE2b per database page


def _pages(path: str, raw: object, size: object) -> tuple[int, bytes]:
    """A database's page size and page hashes: one hash per page of the file's size."""
    if not isinstance(raw, dict) or set(raw) != {"page_size", "hashes"} or not isinstance(raw["hashes"], str):
        raise ValueError(f"entry '{display_path(path)}' has malformed page hashes")
    page_size = raw["page_size"]
    if type(page_size) is not int or page_size not in {512 << shift for shift in range(8)}:
        raise ValueError(f"entry '{display_path(path)}' has a bad page size {page_size!r:.40}")
    hashes = base64.b64decode(raw["hashes"], validate=True)
    if type(size) is not int or len(hashes) % PAGE_HASH or len(hashes) // PAGE_HASH * page_size != size:
        raise ValueError(f"entry '{display_path(path)}' has page hashes that do not cover its size")
    return page_size, hashes


def _regions(path: str, raw: object, size: object) -> tuple[tuple[int, int], ...]:
    """A sparse map: increasing, non-overlapping (offset, length) pairs inside the file."""
    if not isinstance(raw, list) or not isinstance(size, int):
        raise ValueError(f"entry '{display_path(path)}' has a malformed sparse map")
    regions, end = [], 0
    for pair in raw:
        if (not isinstance(pair, list) or len(pair) != 2 or not all(type(n) is int for n in pair)
                or pair[0] < end or pair[1] < 0 or pair[0] + pair[1] > size):
            raise ValueError(f"entry '{display_path(path)}' has a malformed sparse map")
        regions.append((pair[0], pair[1]))
        end = pair[0] + pair[1]
    return tuple(regions)


def _check_tree(manifest: SetManifest) -> None:
    """No path twice, nothing below a link or other non-folder (writing it would go through that), and
    every hard link names a file listed before it."""
    not_folders = {entry.path: entry.type for entry in manifest.entries if entry.type != "dir"}
    seen: dict[str, str] = {}
    for entry in manifest.entries:
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
    if manifest.entries and ROOT in seen and manifest.entries[0].path != ROOT:
        raise HostileSet("the store root is not the first member of the set: refusing to restore this set", ROOT)
