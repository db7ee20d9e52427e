"""Checks that a member of a set can only ever land inside a restore destination.

A set may come from anywhere (a copied file, an attacker), so every path and link
target is checked before anything is written: member paths must be relative, normalised
and free of ``..``; link targets must stay inside the destination when resolved from
the link's own folder.
"""

from __future__ import annotations

import posixpath

from .errors import HostileSet

MEMBER_TYPES = ("file", "dir", "symlink")


def check_member_path(path: object) -> str:
    """Return ``path`` if it is a safe relative member path, else raise HostileSet."""
    if not isinstance(path, str) or not path:
        raise HostileSet(f"set member {path!r} has no usable path: refusing to restore this set", str(path))
    if "\0" in path or "\\" in path:
        raise HostileSet(f"set member {path!r} has a NUL or backslash in its path: refusing to restore this set", path)
    if path.startswith("/"):
        raise HostileSet(f"set member {path!r} has an absolute path: refusing to restore this set", path)
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise HostileSet(f"set member {path!r} is not a plain relative path (it has '..', '.' or '//'): "
                         "refusing to restore this set", path)
    return path


def check_member_type(path: str, kind: object) -> str:
    if kind not in MEMBER_TYPES:
        raise HostileSet(f"set member {path!r} is a {kind!r}, not a file, folder or link (device files are "
                         "never restored): refusing to restore this set", path)
    return kind  # type: ignore[return-value]


def check_link_target(path: str, target: object) -> str:
    """A symlink ``path -> target`` must resolve inside the destination."""
    if not isinstance(target, str) or not target or "\0" in target:
        raise HostileSet(f"set member {path!r} is a link without a usable target: refusing to restore this set", path)
    if target.startswith("/"):
        raise HostileSet(f"set member {path!r} is a link to the absolute path {target!r}, outside the destination: "
                         "refusing to restore this set", path)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise HostileSet(f"set member {path!r} is a link to {target!r}, which points outside the destination: "
                         "refusing to restore this set", path)
    return target
