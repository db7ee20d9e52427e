"""The tar headers of a set: POSIX ustar, with pax extended headers exactly where GNU tar writes them.

What ``tar --format=posix --xattrs --xattrs-include='*' --acls --sparse`` keeps, in the
records it uses, so GNU tar and bsdtar restore a set with the same options:

- ``path`` / ``linkpath`` for names longer than ustar's 100 bytes or not ASCII (the raw
  bytes of the name, no ``hdrcharset``: GNU tar writes and reads them that way);
- ``mtime`` with nanoseconds, before 1970 and past 2242 (ustar holds whole seconds >= 0);
- ``uid``/``gid``/``size`` past ustar's octal fields, ``uname``/``gname`` past 32 bytes;
- ``SCHILY.xattr.NAME`` for every extended attribute, ``SCHILY.acl.access`` and
  ``SCHILY.acl.default`` for POSIX ACLs in ``acl_to_text`` form;
- GNU sparse 1.0: ``GNU.sparse.major/minor/name/realsize``, the map at the start of the data.

Plain members (ASCII name, whole-second time, nothing else) get a ustar header built by
hand, about five times faster than ``tarfile`` — it matters for trees of many small files.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

from .posix_acl import ACCESS, DEFAULT, acl_text

BLOCK = 512
END_OF_ARCHIVE = b"\0" * (2 * BLOCK)
TYPE_FLAGS = {"file": b"0", "hardlink": b"1", "symlink": b"2", "fifo": b"6", "dir": b"5"}
_MEMBER_TYPES = {flag: kind for kind, flag in TYPE_FLAGS.items()} | {b"\0": "file", b"7": "file"}
_PAX_FLAG = b"x"
_MAX_OCTAL_11 = 8**11 - 1
_MAX_OCTAL_7 = 8**7 - 1
_USTAR_MAGIC = b"ustar\x0000"
_NS = 1_000_000_000
ENCODING = "utf-8"  # member names are str decoded with surrogateescape: every byte comes back


def padding(size: int) -> int:
    """Zero bytes that follow ``size`` bytes of data to the next block boundary."""
    return -size % BLOCK


def raw(text: str) -> bytes:
    """The bytes of a name as it is on disk."""
    return text.encode(ENCODING, "surrogateescape")


def tar_name(path: str, kind: str) -> str:
    """The member name: folders end in '/', and the store root itself is './'."""
    if path == ".":
        return "./"
    return path + "/" if kind == "dir" else path


# -- sparse files --------------------------------------------------------------------------


def sparse_map(regions: tuple[tuple[int, int], ...], size: int) -> bytes:
    """The GNU sparse 1.0 map that starts a sparse member's data, padded to a block.

    As GNU tar writes it: the number of regions, then offset and length of each, one
    number a line; a file that ends in a hole gets a last empty region at its size.
    """
    pairs = list(regions)
    if not pairs or pairs[-1][0] + pairs[-1][1] < size:
        pairs.append((size, 0))
    text = b"%d\n" % len(pairs) + b"".join(b"%d\n%d\n" % pair for pair in pairs)
    return text + bytes(padding(len(text)))


def stored_size(kind: str, size: int, regions: tuple[tuple[int, int], ...] | None) -> int:
    """How many bytes of data a member has in the tar stream."""
    if kind != "file":
        return 0
    if regions is None:
        return size
    return len(sparse_map(regions, size)) + sum(length for _, length in regions)


# -- writing -------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: made for every member, and a frozen init costs three times as much
class MemberHead:
    """What a header says of a member (a subset of a manifest entry)."""

    path: str
    kind: str
    mode: int = 0
    mtime_ns: int = 0
    stored: int = 0  # bytes of data in the stream
    target: str = ""  # link target (symbolic) or the name holding the data (hard)
    uid: int = 0
    gid: int = 0
    user: str | None = None
    group: str | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()
    sparse: tuple[tuple[int, int], ...] | None = None
    size: int = 0  # the file's real size (differs from ``stored`` for sparse files)


def header(head: MemberHead) -> bytes:
    """The header block(s) for one member: a pax header first when ustar cannot say it all."""
    name = raw(tar_name(head.path, head.kind))
    target = raw(head.target) if head.target else b""
    user = raw(head.user) if head.user else b""
    group = raw(head.group) if head.group else b""
    seconds, fraction = divmod(head.mtime_ns, _NS)
    fits = (len(name) <= 100 and name.isascii() and len(target) <= 100 and target.isascii()
            and 0 <= seconds <= _MAX_OCTAL_11 and head.stored <= _MAX_OCTAL_11
            and 0 <= head.uid <= _MAX_OCTAL_7 and 0 <= head.gid <= _MAX_OCTAL_7
            and len(user) <= 32 and len(group) <= 32 and not head.xattrs and head.sparse is None)
    if fits:
        member = _ustar(name, TYPE_FLAGS[head.kind], head.stored, head.mode, seconds, head.uid, head.gid, target,
                        user, group)
        if not fraction:
            return member
        body = _record(b"mtime", _decimal_time(head.mtime_ns))  # the most common case: only the time's fraction
        return _pax_block(len(body)) + body + bytes(padding(len(body))) + member
    records: list[tuple[bytes, bytes]] = []
    if head.sparse is not None:
        records += [(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.name", name),
                    (b"GNU.sparse.realsize", b"%d" % head.size)]
        name = _sparse_stand_in(name)
    elif len(name) > 100 or not name.isascii():
        records.append((b"path", name))
    if len(target) > 100 or not target.isascii():
        records.append((b"linkpath", target))
    if fraction or not 0 <= seconds <= _MAX_OCTAL_11:
        records.append((b"mtime", _decimal_time(head.mtime_ns)))
    if head.stored > _MAX_OCTAL_11:
        records.append((b"size", b"%d" % head.stored))
    for key, value in ((b"uid", head.uid), (b"gid", head.gid)):
        if not 0 <= value <= _MAX_OCTAL_7:
            records.append((key, b"%d" % value))
    for key, value in ((b"uname", user), (b"gname", group)):
        if len(value) > 32:
            records.append((key, value))
    for key, value in head.xattrs:
        if key in (ACCESS, DEFAULT):
            text = acl_text(value)
            if text is not None:
                records.append((b"SCHILY.acl.access" if key == ACCESS else b"SCHILY.acl.default", raw(text)))
    records += [(b"SCHILY.xattr." + raw(key), value) for key, value in head.xattrs]
    body = b"".join(_record(key, value) for key, value in records)
    return (_pax_block(len(body)) + body + bytes(padding(len(body)))
            + _ustar(name[:100], TYPE_FLAGS[head.kind], min(head.stored, _MAX_OCTAL_11), head.mode,
                     max(0, min(seconds, _MAX_OCTAL_11)), min(max(head.uid, 0), _MAX_OCTAL_7),
                     min(max(head.gid, 0), _MAX_OCTAL_7), target[:100], user[:32], group[:32]))


@lru_cache(maxsize=1024)
def _pax_block(length: int) -> bytes:
    """The ustar block that announces ``length`` bytes of pax records (its name is only informative)."""
    return _ustar(b"././@PaxHeader", _PAX_FLAG, length, 0o644, 0, 0, 0, b"", b"", b"")


def _sparse_stand_in(name: bytes) -> bytes:
    """The ustar name of a sparse member, as GNU tar makes it (tools that ignore the records see this)."""
    folder, _, base = name.rpartition(b"/")
    stand_in = (folder + b"/" if folder else b"") + b"GNUSparseFile.0/" + base
    return stand_in if len(stand_in) <= 100 and stand_in.isascii() else b"GNUSparseFile.0/sparse-member"


def _decimal_time(ns: int) -> bytes:
    """A pax time: decimal seconds with the fraction, negative before 1970 (as GNU tar writes it)."""
    sign = b"-" if ns < 0 else b""
    seconds, fraction = divmod(abs(ns), _NS)
    text = b"%s%d" % (sign, seconds)
    return text + (b".%09d" % fraction).rstrip(b"0") if fraction else text


def _record(key: bytes, value: bytes) -> bytes:
    """One pax record: its length (which counts its own digits), key, value, newline."""
    rest = len(key) + len(value) + 3  # space, '=', newline
    length = rest + len(str(rest))
    if len(str(length)) != len(str(rest)):
        length = rest + len(str(length))
    return b"%d %s=%s\n" % (length, key, value)


def _checksum(block: bytes) -> int:
    """Sum of the header's bytes, computed in C: adler32's low half is 1 + the byte sum mod 65521,
    exact for 256 bytes (at most 65280)."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def _ustar(name: bytes, flag: bytes, size: int, mode: int, mtime: int, uid: int, gid: int, target: bytes,
           user: bytes, group: bytes) -> bytes:
    head = name.ljust(100, b"\0") + b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime)
    rest, rest_sum = _ustar_rest(flag, target, user, group)
    checksum = (zlib.adler32(head) & 0xFFFF) - 1 + 8 * 32 + rest_sum  # the checksum field counts as 8 spaces
    return head + b"%06o\0 " % checksum + rest


@lru_cache(maxsize=4096)
def _ustar_rest(flag: bytes, target: bytes, user: bytes, group: bytes) -> tuple[bytes, int]:
    """The second half of a ustar block and its byte sum: the same for most members of a set."""
    rest = (flag + target.ljust(100, b"\0") + _USTAR_MAGIC + user.ljust(32, b"\0") + group.ljust(32, b"\0")
            + b"0000000\0" * 2 + b"\0" * 167)
    return rest, _checksum(rest + bytes(512 - len(rest)))


# -- reading (for verify) ------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedHeader:
    path: str
    kind: str | None  # None: a type Strongroom never writes
    stored: int
    target: str
    records: dict[bytes, bytes]


def parse_header(data: bytes) -> ParsedHeader:
    """What a member's header block(s) say; ValueError when the bytes are not a valid header."""
    records: dict[bytes, bytes] = {}
    if len(data) < BLOCK or len(data) % BLOCK:
        raise ValueError("a tar header is a whole number of 512-byte blocks")
    block = data[:BLOCK]
    _check(block)
    if block[156:157] == _PAX_FLAG:
        length = _octal(block[124:136])
        end = BLOCK + length
        if len(data) != end + padding(length) + BLOCK:
            raise ValueError("the pax header's size does not match the header blocks")
        records = _parse_records(data[BLOCK:end])
        block = data[end + padding(length):]
        _check(block)
    elif len(data) != BLOCK:
        raise ValueError("several header blocks without a pax header")
    flag = block[156:157]
    name = block[:100].split(b"\0", 1)[0]
    prefix = block[345:500].split(b"\0", 1)[0]
    if prefix:
        name = prefix + b"/" + name
    name = records.get(b"GNU.sparse.name", records.get(b"path", name))
    target = records.get(b"linkpath", block[157:257].split(b"\0", 1)[0])
    stored = int(records[b"size"]) if b"size" in records else _octal(block[124:136])
    text = name.decode(ENCODING, "surrogateescape")
    if text == "./":
        path = "."
    else:
        path = text[:-1] if flag == b"5" and text.endswith("/") else text
    return ParsedHeader(path, _MEMBER_TYPES.get(flag), stored, target.decode(ENCODING, "surrogateescape"), records)


_USTAR_FIELDS = {"name": (0, 100), "mode": (100, 108), "uid": (108, 116), "gid": (116, 124), "size": (124, 136),
                 "mtime": (136, 148), "type": (156, 157), "link name": (157, 257), "user name": (265, 297),
                 "group name": (297, 329), "prefix": (345, 500)}


def header_differences(actual: bytes, expected: bytes) -> list[str]:
    """The fields (ustar fields and pax records) in which two members' headers differ."""
    def fields(data: bytes) -> dict[str, bytes]:
        try:
            parsed = parse_header(data)
        except ValueError:
            return {"the header itself": data}
        block = data[-BLOCK:]
        found = {name: block[start:end] for name, (start, end) in _USTAR_FIELDS.items()}
        found.update({f"pax {key.decode('ascii', 'replace')}": value for key, value in parsed.records.items()})
        return found

    mine, theirs = fields(actual), fields(expected)
    return sorted(key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key)) or ["its layout"]


def _check(block: bytes) -> None:
    if len(block) != BLOCK or block[257:265] != _USTAR_MAGIC:
        raise ValueError("not a ustar header")
    if _octal(block[148:156]) != _checksum(block[:148] + b"        " + block[156:]):
        raise ValueError("the header checksum does not match")


def _octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise ValueError(f"bad number field {field!r}") from None


def _parse_records(body: bytes) -> dict[bytes, bytes]:
    records = {}
    position = 0
    while position < len(body):
        space = body.find(b" ", position)
        if space < 0:
            raise ValueError("a pax record without a length")
        length = int(body[position:space])
        record = body[space + 1: position + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise ValueError("a malformed pax record")
        key, value = record[:-1].split(b"=", 1)
        records[key] = value
        position += length
    return records
