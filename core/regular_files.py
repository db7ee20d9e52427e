"""Opening the files Strongroom reads back — sets, sidecars, settings, the catalog — as what they claim to be.

A set folder or a config folder may be writable by someone else. Each of these files is
opened without following a link in its last component and without blocking (a FIFO
planted in its place would hang every command), and must then be a regular file; its
size is bounded where it is read whole.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


class NotARegularFile(OSError):
    """A path that is a link, FIFO, device or folder where a regular file was expected."""


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading in binary; NotARegularFile when it is anything but a regular file.

    Other OSErrors (missing, permission denied) pass through unchanged.
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "a link, not a regular file", str(path)) from None
        raise
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            what = "a folder" if stat.S_ISDIR(kind) else "a FIFO" if stat.S_ISFIFO(kind) else "a special file"
            raise NotARegularFile(errno.EISDIR if stat.S_ISDIR(kind) else errno.EINVAL, f"{what}, not a regular file",
                                  str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, limit: int) -> bytes:
    """The whole of a regular file of at most ``limit`` bytes (ValueError when larger)."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data
