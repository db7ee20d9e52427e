"""The lock directory: where the mutex files of every store type live, and who may use it.

Per store type ``T`` the directory holds:

- ``strongroom.T.lock`` -- the OS-level lock (flock / LockFileEx through filelock). It is
  never deleted: deleting a lock file lets two processes each lock "the same" path on
  two different inodes.
- ``strongroom.T.holder.json`` -- the holder's owner record.
- ``strongroom.T.waiting/`` -- one record per waiter, named by arrival ticket.

Two scopes: ``user`` (the default; directory private to the user, mode 0700) and
``machine`` (several administrators share it; directory group-writable with the setgid
bit so files keep the group, records mode 0660).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Literal

from ..invalid_value import InvalidValue
from ..store_types import check_type_name

Scope = Literal["user", "machine"]
SCOPES: tuple[Scope, ...] = ("user", "machine")

_TYPE_FILE = re.compile(r"strongroom\.([a-z][a-z0-9_-]{0,31})\.(?:lock|holder\.json|waiting)")


class LockDirectoryError(OSError):
    """The lock directory cannot be created or is not safe to use."""


def mutex_name(store_type: str) -> str:
    """The mutex name of a store type; it always contains the type."""
    return f"strongroom.{check_type_name(store_type)}"


class LockDirectory:
    """Paths and permissions of one lock directory."""

    def __init__(self, path: os.PathLike[str] | str, scope: Scope = "user") -> None:
        if scope not in SCOPES:
            raise InvalidValue(f"unknown lock scope {scope!r}; use one of {', '.join(SCOPES)}")
        self.path = Path(path)
        self.scope: Scope = scope
        self.dir_mode = 0o700 if scope == "user" else 0o2770
        self.file_mode = 0o600 if scope == "user" else 0o660

    def __repr__(self) -> str:
        return f"LockDirectory({str(self.path)!r}, scope={self.scope!r})"

    def lock_path(self, store_type: str) -> Path:
        return self.path / f"{mutex_name(store_type)}.lock"

    def holder_path(self, store_type: str) -> Path:
        return self.path / f"{mutex_name(store_type)}.holder.json"

    def waiting_dir(self, store_type: str) -> Path:
        return self.path / f"{mutex_name(store_type)}.waiting"

    def ensure(self) -> None:
        """Create the directory with the scope's permissions, or check an existing one.

        Only a directory Strongroom creates gets its mode set: an existing one (a shared
        folder, /tmp) is never chmodded; if its permissions are unsafe for the scope, the
        message says what to run.
        """
        if os.path.lexists(self.path) and not self.path.is_dir():
            raise LockDirectoryError(f"the lock directory {self.path} is not a directory; remove it or choose another")
        created = False
        if not self.path.is_dir():
            try:
                self.path.mkdir(parents=True)
                created = True
            except FileExistsError:
                pass
            except OSError as error:
                raise LockDirectoryError(
                    f"cannot create the lock directory {self.path} ({error.strerror}); create it "
                    "yourself or choose another one with --lock-dir or STRONGROOM_LOCK_DIR"
                ) from None
        self._check(self.path, created, follow=True)

    def ensure_waiting_dir(self, store_type: str) -> Path:
        """The waiting folder of a mutex: made here if missing, and refused if it is a link or not safe."""
        path = self.waiting_dir(store_type)
        created = False
        if not os.path.lexists(path):
            try:
                path.mkdir()
                created = True
            except FileExistsError:
                pass
            except OSError as error:
                raise LockDirectoryError(f"cannot create {path} ({error.strerror})") from None
        self._check(path, created, follow=False)
        return path

    def _check(self, path: Path, created: bool, *, follow: bool) -> None:
        try:
            info = os.stat(path) if follow else os.lstat(path)
        except OSError as error:
            raise LockDirectoryError(f"cannot inspect the lock directory {path} ({error.strerror})") from None
        if stat.S_ISLNK(info.st_mode):
            raise LockDirectoryError(f"{path} is a link, not a folder: someone put it there — remove it "
                                     f"(rm {path}); Strongroom makes that folder itself")
        if not stat.S_ISDIR(info.st_mode):
            raise LockDirectoryError(f"the lock directory {path} is not a directory; remove it or choose another")
        if not hasattr(os, "getuid"):
            return  # Windows: the profile directory's ACLs already keep it private
        mode = stat.S_IMODE(info.st_mode)
        if created:
            os.chmod(path, self.dir_mode)  # ours: the umask must not decide who may use it
            return
        if self.scope == "user":
            if info.st_uid != os.getuid():
                raise LockDirectoryError(
                    f"the lock directory {path} belongs to user id {info.st_uid}, not to you; "
                    "a per-user lock directory must be your own -- remove it or choose another"
                )
            if mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise LockDirectoryError(
                    f"the lock directory {path} can be written by other users (mode {mode:04o}), who could forge "
                    f"its records; a per-user lock directory must be yours alone -- run: chmod 700 {path}, or "
                    "choose another"
                )
            return
        if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            raise LockDirectoryError(
                f"the shared lock directory {path} is writable by every user; "
                f"ask its owner to run: chmod 2770 {path}"
            )

    def store_types_on_disk(self) -> set[str]:
        """Store types that have any mutex file in the directory (records of unknown types too)."""
        try:
            names = os.listdir(self.path)
        except OSError:
            return set()
        return {m.group(1) for name in names if (m := _TYPE_FILE.fullmatch(name))}
