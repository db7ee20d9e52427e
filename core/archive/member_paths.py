"""Checks that a member of a set can only ever land inside a restore destination.

A set may come from anywhere (a copied file, an attacker), so every member path is
checked before anything is written: relative, normalised, free of ``..`` and NUL. A
name may hold any other byte (a backslash, a newline, bytes that are not UTF-8). Link
targets are data: a symbolic link is restored as a link and never written through, so
where it points does not matter here; a hard link must name a file stored before it.
"""

from __future__ import annotations

from .errors import HostileSet

MEMBER_TYPES = ("file", "dir", "symlink", "hardlink", "fifo")
ROOT = "."  # the store root itself: its mode, owner, times and attributes


def check_member_path(path: object) -> str:
    """Return ``path`` if it is a safe relative member path, else raise HostileSet."""
    if not isinstance(path, str) or not path:
        raise HostileSet(f"set member {path!r} has no usable path: refusing to restore this set", str(path))
    if "\0" in path:
        raise HostileSet(f"set member '{display_path(path)}' has a NUL in its path: refusing to restore this set", path)
    if not path.isascii():
        try:
            path.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise HostileSet(f"set member {path!r:.200} has a name no file system can hold (a lone surrogate): "
                             "refusing to restore this set", "?") from None
    if path == ROOT:
        return path
    if path.startswith("/"):
        raise HostileSet(f"set member '{display_path(path)}' has an absolute path: refusing to restore this set", path)
    if path.endswith("/") or "//" in path or (("." in path) and any(part in (".", "..") for part in path.split("/"))):
        raise HostileSet(f"set member '{display_path(path)}' is not a plain relative path (it has '..', '.' or '//'): "
                         "refusing to restore this set", path)
    return path


def check_member_type(path: str, kind: object) -> str:
    if kind not in MEMBER_TYPES or (path == ROOT and kind != "dir"):
        raise HostileSet(f"set member '{display_path(path)}' is a {kind!r}, not a file, folder, link or FIFO (device files are "
                         "never restored): refusing to restore this set", path)
    return kind  # type: ignore[return-value]


def check_link_target(path: str, target: object) -> str:
    """A link must have a target; a symbolic link's may point anywhere (it is never followed)."""
    if not isinstance(target, str) or not target or "\0" in target:
        raise HostileSet(f"set member '{display_path(path)}' is a link without a usable target: refusing to restore this set", path)
    return target


def display_path(path: str) -> str:
    """A member name as it may be shown: every byte kept, none raw.

    Backslashes, control characters (newline, escape...) and bytes that are not UTF-8
    are written as escapes, so a name can neither break a line of output nor pass for
    another name.
    """
    out = []
    for char in path:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\x{code:02x}"))
        else:
            out.append(char)
    return "".join(out)
