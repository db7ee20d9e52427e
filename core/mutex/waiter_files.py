"""Waiter records that prove their waiter is there: each is locked by the process that waits.

A record alone proves nothing: in a shared lock directory anyone may write one, naming
pid 1 with its real start time, and a waiter that defers to earlier live waiters would
then wait forever. So a waiting process holds an exclusive ``flock`` on its own record
file for as long as it waits; the kernel drops the lock when the process ends, however
it ends. A record nobody holds is not a waiter, whatever it says.

Heartbeats rewrite the record atomically (a new file renamed over the old one): the new
file is locked *before* it takes the name and the old one unlocked only after, so the
file at the name is locked at every moment of a wait. A reader that finds a record
unlocked checks that it is still the file at the name before believing it.

Records are written in the waiting folder through a descriptor opened without following
links: a link planted as the waiting folder cannot carry them elsewhere.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; records there count by liveness alone
    fcntl = None  # type: ignore[assignment]

from .records import MutexRecord

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def write_locked(path: Path, record: MutexRecord, mode: int, previous: int | None) -> int:
    """Put ``record`` at ``path``, locked by this process; return the new file's descriptor (keep it open).

    ``previous`` is the descriptor of the record this one replaces: it is closed (its lock
    dropped) only once the new one holds the name.
    """
    folder = os.open(path.parent, _FOLDER_FLAGS)
    try:
        temporary = f".tmp-{path.name}-{secrets.token_hex(6)}"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                     dir_fd=folder)
        try:
            os.fchmod(fd, mode)  # the umask must not narrow a shared (machine-scope) record
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, record.to_bytes())
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise
    finally:
        os.close(folder)
    if previous is not None:
        os.close(previous)
    return fd


def waiter_is_there(path: Path) -> bool:
    """Whether a process holds the lock of the waiter record at ``path`` (that is, still waits)."""
    if fcntl is None:
        return True
    for _ in range(3):  # the record may be replaced by its heartbeat while we look
        try:
            fd = os.open(path, _READ_FLAGS)
        except OSError:
            return False
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    return True
                return False
            try:
                now = os.stat(path, follow_symlinks=False)
            except OSError:
                return False
            if (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):
                return False  # the file at the name, and nobody holds it: not a waiter
        finally:
            os.close(fd)
    return False
