"""One member of a point in time, and how its manifest record is read back and checked."""

from __future__ import annotations

import base64
from dataclasses import MISSING, dataclass, fields

from . import tar_format
from .member_paths import check_link_target, check_member_path, check_member_type, display_path


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


_ENTRY_FIELDS = {f.name for f in fields(Entry)}
_DEFAULTS = {f.name: f.default for f in fields(Entry) if f.default is not MISSING}


_NS = 1_000_000_000
_TIME_RANGE = (-62_135_596_800 * _NS, 253_402_300_799 * _NS)  # years 1 to 9999: what time_t and dates can show
_OFF_T = (0, 2**63 - 1)
# Every number within what the file system and the tools can hold: a hostile manifest gets a clear refusal,
# never an overflow half-way through a restore.
_RANGES = {"mode": (0, 0o7777), "mtime_ns": _TIME_RANGE, "ctime_ns": _TIME_RANGE, "size": _OFF_T,
           "uid": (0, 2**32 - 2), "gid": (0, 2**32 - 2), "ino": (0, 2**64 - 1), "frame_offset": _OFF_T,
           "header_offset": _OFF_T, "data_offset": _OFF_T}


def new_entry(**values) -> Entry:
    """An entry built without the frozen dataclass's __init__ (a tenth of its cost, for a backup's every file);
    the values are the caller's own, already sound."""
    entry = object.__new__(Entry)
    fields_ = _DEFAULTS.copy()
    fields_.update(values)
    entry.__dict__.update(fields_)
    return entry


_RANGE_LIST = tuple((name, low, high) for name, (low, high) in _RANGES.items())
_TEXT_FIELDS = ("user", "group", "target", "sha256", "set_id")


def parse_entry(raw: object) -> Entry:
    """An entry from its manifest record, every field checked: a hostile record gets HostileSet or ValueError.

    Written for speed (every entry of every read passes here): a million entries parse in a few seconds.
    """
    if type(raw) is not dict:
        raise TypeError(f"entry {raw!r:.80} is not an object")
    if not raw.keys() <= _ENTRY_FIELDS:
        raise TypeError(f"entry has unknown fields {sorted(set(raw) - _ENTRY_FIELDS)}")
    path = check_member_path(raw.get("path"))
    kind = check_member_type(path, raw.get("type"))
    values = _DEFAULTS.copy()
    values.update(raw)
    if "xattrs" in raw:
        xattrs = raw["xattrs"]
        if not isinstance(xattrs, dict) or not all(isinstance(name, str) and isinstance(value, str) and is_name(name)
                                                   for name, value in xattrs.items()):
            raise ValueError(f"entry '{display_path(path)}' has malformed extended attributes")
        values["xattrs"] = tuple(sorted((name, base64.b64decode(value, validate=True))
                                        for name, value in xattrs.items()))
    if "sparse" in raw:
        if kind != "file":
            raise ValueError(f"entry '{display_path(path)}' is a {kind} with a sparse map")
        values["sparse"] = _regions(path, raw["sparse"], raw.get("size"))
    if "pages" in raw:
        values["pages"] = _pages(path, raw["pages"], raw.get("size"))
    for name, low, high in _RANGE_LIST:
        value = values[name]
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"entry '{display_path(path)}' has a {name} out of range: {value!r:.40}")
    for name in _TEXT_FIELDS:
        value = values[name]
        if value is not None and not (type(value) is str and is_name(value)):
            raise ValueError(f"entry '{display_path(path)}' has a bad {name}")
    delta = values["delta"]
    if delta is not None and (type(delta) is not int or not 0 <= delta <= _OFF_T[1] or values["pages"] is None):
        raise ValueError(f"entry '{display_path(path)}' has a bad page delta")
    if kind == "file":
        digest = values["sha256"]
        if digest is None or len(digest) != 64:
            raise ValueError(f"file entry '{display_path(path)}' has no SHA-256")
    elif kind in ("symlink", "hardlink"):
        check_link_target(path, values["target"])
    entry = object.__new__(Entry)  # a frozen dataclass's __init__ costs more than all the checks above
    entry.__dict__.update(values)
    return entry


def is_name(text: str) -> bool:
    """Text that stands for bytes on disk: UTF-8, or undecodable bytes as surrogateescape keeps them."""
    if text.isascii():
        return "\0" not in text
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


