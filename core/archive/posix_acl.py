"""POSIX ACLs: the kernel's binary xattr form turned into the text GNU tar stores.

Strongroom keeps ACLs as what they are on disk, the ``system.posix_acl_access`` and
``system.posix_acl_default`` extended attributes, and restores them as such. GNU tar
(``--acls``) reads ACLs from ``SCHILY.acl.access`` / ``SCHILY.acl.default`` pax records in
the text form of ``acl_to_text`` (one entry per line, names where the id has one), so the
tar stream carries that text too.
"""

from __future__ import annotations

import grp
import pwd
import struct
from functools import lru_cache

ACCESS = "system.posix_acl_access"
DEFAULT = "system.posix_acl_default"
_VERSION = 2
_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")
_TAGS = {0x01: "user", 0x02: "user", 0x04: "group", 0x08: "group", 0x10: "mask", 0x20: "other"}
_QUALIFIED = {0x02, 0x08}


@lru_cache(maxsize=4096)
def user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return None


@lru_cache(maxsize=4096)
def group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except (KeyError, OverflowError):
        return None


def acl_text(value: bytes) -> str | None:
    """The ``acl_to_text`` form of a binary ACL xattr, or None when the bytes are not one."""
    if len(value) < _HEADER.size or (len(value) - _HEADER.size) % _ENTRY.size:
        return None
    if _HEADER.unpack_from(value)[0] != _VERSION:
        return None
    lines = []
    for offset in range(_HEADER.size, len(value), _ENTRY.size):
        tag, perm, qualifier = _ENTRY.unpack_from(value, offset)
        kind = _TAGS.get(tag)
        if kind is None:
            return None
        who = ""
        if tag in _QUALIFIED:
            name = user_name(qualifier) if tag == 0x02 else group_name(qualifier)
            who = name if name is not None else str(qualifier)
        bits = "".join(letter if perm & bit else "-" for letter, bit in (("r", 4), ("w", 2), ("x", 1)))
        lines.append(f"{kind}:{who}:{bits}\n")
    return "".join(lines)
