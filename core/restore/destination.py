"""The restore destination, reached one folder name at a time through descriptors.

The root is opened once; every folder below it is opened relative to its parent with
``O_NOFOLLOW``, so a link anywhere on the way (there before the restore, or swapped in
while it runs) is refused instead of followed, and paths of any depth work. The folders
of the last path asked for stay open: a restore goes through its items in tree order,
so most lookups open nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..archive import ROOT, display_path
from ..remedies import Remedy, with_fix
from ..stores import StoreError

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkInTheWay(StoreError):
    """A link stands where the restore needs a folder: following it could write outside the destination."""


class DestinationTree:
    def __init__(self, root: Path, *, create: bool) -> None:
        self.root = root
        if create:
            root.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._open: list[tuple[str, int]] = []  # the folders of the last lookup below the root

    @classmethod
    def existing(cls, root: Path) -> DestinationTree | None:
        """The tree at ``root``, or None when there is nothing there yet."""
        try:
            return cls(root, create=False)
        except FileNotFoundError:
            return None
        except NotADirectoryError as error:
            raise with_fix(StoreError(f"cannot write to the restore destination {root} ({error.strerror}: something "
                                      "on its way is not a folder)"), Remedy.RESTORE_ELSEWHERE) from None

    def folder(self, parts: list[str], *, create: bool = False) -> int:
        """The descriptor of the folder at ``parts`` below the root (the root for no parts).

        Raises LinkInTheWay for a link on the way, NotADirectoryError for something else
        that is not a folder, FileNotFoundError when a folder is missing (with ``create``,
        missing folders are made, as ``mkdir -p`` would: for a file restored without the
        folders above it).
        """
        common = 0
        while common < len(self._open) and common < len(parts) and self._open[common][0] == parts[common]:
            common += 1
        while len(self._open) > common:
            os.close(self._open.pop()[1])
        for depth in range(common, len(parts)):
            parent = self._open[-1][1] if self._open else self.fd
            try:
                fd = self._open_folder(parts[depth], parent, create)
            except OSError as error:
                if error.errno == errno.ELOOP or (error.errno == errno.ENOTDIR and _is_link(parent, parts[depth])):
                    shown = self.root.joinpath(*parts[: depth + 1])
                    raise with_fix(LinkInTheWay(f"{display_path(str(shown))} is a link; restoring through it could "
                                                f"write outside {self.root}"), Remedy.LINK_IN_THE_WAY) from None
                raise
            self._open.append((parts[depth], fd))
        return self._open[-1][1] if self._open else self.fd

    @staticmethod
    def _open_folder(name: str, parent: int, create: bool) -> int:
        try:
            return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
        try:
            os.mkdir(name, 0o777, dir_fd=parent)
        except FileExistsError:
            pass  # made meanwhile: opened below like any other, a link refused
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)

    def parent_of(self, relative: str, *, create: bool = False) -> tuple[int, str]:
        """(descriptor of the folder that holds ``relative``, its name there)."""
        parts = relative.split("/")
        return self.folder(parts[:-1], create=create), parts[-1]

    def lstat(self, relative: str) -> os.stat_result | None:
        """What is at ``relative`` now (not followed), or None if nothing is."""
        if relative == ROOT:
            return os.fstat(self.fd)
        try:
            folder, name = self.parent_of(relative)
            return os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        while self._open:
            os.close(self._open.pop()[1])
        os.close(self.fd)

    def __enter__(self) -> DestinationTree:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False
