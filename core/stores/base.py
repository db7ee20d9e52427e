"""The interface every store type implements, and what a job gives a driver to work with.

A driver knows one kind of store: how to check that a path is one, how to copy it into
a set consistently, and how to place and check restored files. Everything else —
mutexes, set files, catalog, progress, cancel — is the job's, so a new store type is
one small module (see folder.py and sqlite.py).
"""

from __future__ import annotations

import errno
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..archive import Entry, SetManifest, SetWriter

if TYPE_CHECKING:
    from .excludes import Excluder


class StoreError(Exception):
    """A store path that is missing, of the wrong kind, or unreadable."""


class SnapshotSession(Protocol):
    """What a backup job offers a driver while it copies a store into a set."""

    writer: SetWriter
    parent: SetManifest | None  # the previous point in time, for incremental sets
    scratch: Path  # a folder on the target's file system for temporary copies
    excluder: Excluder | None  # what to leave out (drivers whose ``excludes`` is True), counting it

    def add(self, entry: Entry) -> None:
        """Record an entry of this point in time (written or carried over from the parent)."""

    def warn(self, message: str) -> None: ...

    def log(self, line: str) -> None:
        """A line for the job's log (not a warning)."""

    def set_totals(self, files: int, size: int) -> None: ...

    def advance(self, size: int) -> None:
        """``size`` more bytes were read (and checks for cancel)."""

    def file_done(self, path: str, size: int = 0) -> None:
        """A file is done; ``size`` of its bytes were not yet counted with ``advance``."""

    def check_cancelled(self) -> None: ...

    def release_store(self) -> None:
        """The store is no longer touched: give back its mutex early."""


class StoreDriver(ABC):
    """One store type."""

    type_name: ClassVar[str]
    description: ClassVar[str]
    incremental: ClassVar[bool] = False
    location_kind: ClassVar[str] = "folder"  # what a store's "path" is: "folder", "file" or "server" (a connection)
    hint: ClassVar[str] = ""  # one sentence for the console's Add-store dialog
    file_filter: ClassVar[str] = "All files (*)"  # for a "file" store's file picker
    named_temporary: ClassVar[bool] = False  # True: check_restored needs the restored file under a name
    excludes: ClassVar[bool] = False  # True: snapshot leaves out what ``session.excluder`` says

    @abstractmethod
    def check_path(self, path: str) -> Path:
        """The absolute path of a usable store, or StoreError saying what is wrong and what to do."""

    @abstractmethod
    def snapshot(self, path: Path, session: SnapshotSession) -> None:
        """Copy the store at ``path`` into ``session.writer``, consistently."""

    def shown(self, path: str) -> str:
        """A store's path as shown to people (a connection's, without any secret)."""
        return path

    def restore_root(self, store_path: Path, to: Path | None) -> Path:
        """The folder restored members land in."""
        return to if to is not None else store_path

    def landing(self, root: Path, store_path: Path, entry: Entry) -> str:
        """Where a member lands below ``root``, as a relative path (its own, checked when the manifest was read)."""
        return entry.path

    def check_restored(self, spot: RestoreSpot, entry: Entry) -> None:
        """Check a restored file (``spot.temporary``) before it replaces anything; StoreError if unusable."""

    def install(self, spot: RestoreSpot) -> None:
        """Put a checked restored file in place, atomically (see ``place``)."""
        place(spot)


@dataclass(frozen=True)
class RestoreSpot:
    """Where one restored item is being put: its folder's descriptor and two names in it.

    A restore reaches folders only through descriptors opened without following links,
    so a driver that needs a path for another program (SQLite) gets one through the
    descriptor with ``path``, never by looking the destination up again from the root.
    """

    dir_fd: int
    name: str
    temporary: str
    replace: bool  # the overwrite policy allows replacing what is there
    shown: Path  # the destination, for messages

    def path(self, name: str) -> Path:
        return Path(f"/proc/self/fd/{self.dir_fd}") / name


class AppearedDuringRestore(Exception):
    """Something was created at a destination after the plan found it free: it is kept."""


def place(spot: RestoreSpot) -> None:
    """Give the temporary file its final name: replacing only when allowed, else never.

    "Never" is atomic: the temporary is hard-linked to the final name (which fails if
    anything is there) and then removed. File systems without hard links get a rename
    after a last look.
    """
    if spot.replace:
        os.replace(spot.temporary, spot.name, src_dir_fd=spot.dir_fd, dst_dir_fd=spot.dir_fd)
        return
    try:
        os.link(spot.temporary, spot.name, src_dir_fd=spot.dir_fd, dst_dir_fd=spot.dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise AppearedDuringRestore(spot.shown) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
            raise
        try:
            os.stat(spot.name, dir_fd=spot.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.replace(spot.temporary, spot.name, src_dir_fd=spot.dir_fd, dst_dir_fd=spot.dir_fd)
            return
        raise AppearedDuringRestore(spot.shown) from None
    os.unlink(spot.temporary, dir_fd=spot.dir_fd)


def missing_path_error(path: str, what: str) -> StoreError:
    return StoreError(f"the store path {path} does not exist: check the path (it must be {what})")
