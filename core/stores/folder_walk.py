"""Walking a folder store through directory descriptors, depth first, links never followed.

Every item is looked up relative to the descriptor of the folder that holds it, opened
with ``O_NOFOLLOW``: paths of any depth work (past PATH_MAX), and a link swapped in for a
folder while the walk runs is seen as a link, never followed. The order is the order of
a tar stream that ``tar -x`` restores best: a folder, then everything in it, names
sorted by their bytes.
"""

from __future__ import annotations

import errno
import os
import resource
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..archive import ROOT, display_path
from ..archive.tar_format import raw
from .excludes import Excluder

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA)

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Item:
    """One item of the store. ``dir_fd`` (its folder) and ``fd`` (a folder's own) are valid until the
    walk moves on."""

    path: str  # "." for the store root
    name: str
    kind: str  # file | dir | symlink | fifo
    status: os.stat_result
    dir_fd: int
    fd: int | None = None


def kind_of(mode: int) -> str | None:
    """The member type of a file mode; None for what is not backed up (sockets, devices)."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return None


def walk(root: Path, warn: Warn, excluder: Excluder | None = None) -> Iterator[Item]:
    """Every item of the store at ``root``, the root itself first (as ``"."``), but what ``excluder`` leaves out
    (a folder left out is not entered)."""
    allow_deep_walks()
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the store path itself may be a link
    stack: list[tuple[int, str, Iterator[str]]] = [(root_fd, "", iter(()))]  # every fd here is closed at the end

    def names_in(fd: int, path: str) -> Iterator[str]:
        names = _names(fd, path, warn)
        return iter(excluder.folder_names(fd, "" if path == ROOT else path, names) if excluder else names)

    try:
        yield Item(ROOT, ROOT, "dir", os.fstat(root_fd), root_fd, root_fd)
        stack[0] = (root_fd, "", names_in(root_fd, ROOT))
        while stack:
            fd, relative, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                os.close(fd)
                continue
            path = f"{relative}/{name}" if relative else name
            try:
                status = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                warn(f"{display_path(path)}: vanished during the backup; not in this set")
                continue
            except OSError as error:
                warn(f"{display_path(path)}: cannot be examined ({error.strerror}); not in this set")
                continue
            kind = kind_of(status.st_mode)
            if kind is None:
                what = "a socket" if stat.S_ISSOCK(status.st_mode) else "a device file"
                warn(f"{display_path(path)}: {what}; skipped (sockets and devices are not backed up)")
                continue
            if excluder is not None and excluder.excludes(path, kind, status):
                continue
            if kind != "dir":
                yield Item(path, name, kind, status, fd)
                continue
            sub = _open_folder(fd, name, path, status, warn)
            if sub is None:
                yield Item(path, name, kind, status, fd)
                continue
            stack.append((sub, path, iter(())))
            yield Item(path, name, kind, os.fstat(sub), fd, sub)
            stack[-1] = (sub, path, names_in(sub, path))
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def _open_folder(parent: int, name: str, path: str, listed: os.stat_result, warn: Warn) -> int | None:
    try:
        fd = os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            warn(f"{display_path(path)}: replaced by something that is not a folder during the backup; its "
                 "contents are not in this set")
        else:
            warn(f"{display_path(path)}: folder unreadable ({error.strerror}); its contents are not in this set — "
                 "give this user read access to back them up")
        return None
    now = os.fstat(fd)
    if (now.st_dev, now.st_ino) != (listed.st_dev, listed.st_ino):
        os.close(fd)
        warn(f"{display_path(path)}: replaced during the backup; its contents are not in this set")
        return None
    return fd


def _names(fd: int, path: str, warn: Warn) -> list[str]:
    try:
        return sorted(os.listdir(fd), key=raw)
    except OSError as error:
        warn(f"{display_path(path)}: folder unreadable ({error.strerror}); its contents are not in this set")
        return []


def read_xattrs(item: Item, fd: int | None = None) -> tuple[tuple[str, bytes], ...]:
    """Every extended attribute of an item (ACLs included), read through ``fd`` when open.

    A link or FIFO cannot be opened without following or blocking, so it is reached
    through its folder's descriptor (``/proc/self/fd/N/name``), never by its path.
    """
    target: int | str = fd if fd is not None else f"/proc/self/fd/{item.dir_fd}/{item.name}"
    try:
        names = os.listxattr(target, follow_symlinks=False) if isinstance(target, str) else os.listxattr(target)
        values = []
        for name in sorted(names):
            try:
                value = (os.getxattr(target, name, follow_symlinks=False) if isinstance(target, str)
                         else os.getxattr(target, name))
            except OSError as error:
                if error.errno == errno.ENODATA:  # removed between the two calls
                    continue
                raise
            values.append((name, value))
        return tuple(values)
    except OSError as error:
        if error.errno in _NO_XATTRS or (isinstance(target, str) and error.errno == errno.ENOENT
                                         and not os.path.isdir("/proc/self/fd")):
            return ()
        raise


_deep_walks_allowed = False


def allow_deep_walks() -> None:
    """A walk holds one descriptor per folder level: lift the soft limit on open files to the hard one."""
    global _deep_walks_allowed
    if _deep_walks_allowed:
        return
    _deep_walks_allowed = True
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
        except (OSError, ValueError):
            pass
