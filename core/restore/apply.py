"""Applying a restore plan: folders, then files (each via a checked temporary file), then links.

Every file is written beside its destination under a temporary name, checked (SHA-256
as it streams, then the driver's own check) and only then renamed into place, so an
existing file is either left alone or replaced whole. Folder times and modes are set
last, deepest first, because writing into a folder changes its mtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from ..archive import SetReader
from ..leftovers import partial_name, remove_stale_partials
from ..stores import StoreDriver, StoreError
from .plan import CREATE, EXISTS, KEEP, REPLACE, Action, RestorePlan

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class RestoreResult:
    files_written: int = 0
    bytes_written: int = 0
    links_written: int = 0
    folders_created: int = 0
    kept: int = 0
    leftovers_removed: int = 0  # partial files of killed restores, removed from the destination


class RestoreHooks:
    """How apply_plan reports and is stopped (the restore job implements these)."""

    def advance(self, size: int) -> None: ...

    def file_done(self, path: str) -> None: ...

    def check_cancelled(self) -> None: ...


def destination_error(error: OSError, root: Path) -> StoreError:
    where = error.filename or root
    return StoreError(f"cannot write to the restore destination {where} ({error.strerror}): make it writable or "
                      "restore with --to into another folder")


def apply_plan(plan: RestorePlan, driver: StoreDriver, open_set: Callable[[str], SetReader],
               hooks: RestoreHooks) -> RestoreResult:
    result = RestoreResult(kept=plan.count(KEEP))
    try:
        plan.root.mkdir(parents=True, exist_ok=True)
        folders = [item for item in plan.actions if item.entry.type == "dir" and item.action in (CREATE, EXISTS)]
        for item in folders:
            if item.action == CREATE:
                item.destination.mkdir(parents=True, exist_ok=True)
                result.folders_created += 1
        files = [item for item in plan.actions if item.entry.type == "file" and item.action in (CREATE, REPLACE)]
        for folder in {item.destination.parent for item in plan.actions if item.entry.type in ("file", "symlink")}:
            result.leftovers_removed += len(remove_stale_partials(folder))  # from restores that were killed
        files.sort(key=lambda item: item.entry.set_id)
        for set_id, group in groupby(files, key=lambda item: item.entry.set_id):
            by_entry = {item.entry.path: item for item in group}
            with open_set(set_id) as reader:
                for entry, chunks in reader.read_members(item.entry for item in by_entry.values()):
                    hooks.check_cancelled()
                    _write_file(by_entry[entry.path], chunks, driver, hooks)
                    result.files_written += 1
                    result.bytes_written += entry.size
                    hooks.file_done(entry.path)
        for item in plan.actions:
            if item.entry.type == "symlink" and item.action in (CREATE, REPLACE):
                hooks.check_cancelled()
                _write_link(item)
                result.links_written += 1
        for item in sorted(folders, key=lambda item: item.entry.path.count("/"), reverse=True):
            if item.action == CREATE:
                _set_metadata(item, follow=True)
    except OSError as error:
        raise destination_error(error, plan.root) from None
    return result


def _temporary(destination: Path) -> Path:
    return partial_name(destination)


def _create_temporary(temporary: Path) -> int:
    """Open a new temporary file; its folder is made, or a stale one replaced, only when needed."""
    try:
        return os.open(temporary, _WRITE_FLAGS, 0o600)
    except FileNotFoundError:
        temporary.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        temporary.unlink()
    return os.open(temporary, _WRITE_FLAGS, 0o600)


def _write_file(item: Action, chunks, driver: StoreDriver, hooks: RestoreHooks) -> None:
    temporary = _temporary(item.destination)
    fd = _create_temporary(temporary)
    installed = False
    try:
        with os.fdopen(fd, "wb") as target:
            for chunk in chunks:
                target.write(chunk)
                hooks.advance(len(chunk))
        driver.check_restored(temporary, item.entry)
        _set_metadata(Action(item.entry, temporary, item.action), follow=True)
        driver.install(temporary, item.destination)
        installed = True
    finally:
        if not installed:
            temporary.unlink(missing_ok=True)


def _write_link(item: Action) -> None:
    temporary = _temporary(item.destination)
    temporary.unlink(missing_ok=True)
    item.destination.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(item.entry.target or "", temporary)
    try:
        _set_metadata(Action(item.entry, temporary, item.action), follow=False)
        os.replace(temporary, item.destination)
    finally:
        temporary.unlink(missing_ok=True)


def _set_metadata(item: Action, *, follow: bool) -> None:
    entry, path = item.entry, item.destination
    if _AS_ROOT:
        try:
            os.chown(path, entry.uid, entry.gid, follow_symlinks=follow)
        except OSError:
            pass  # an id this system does not have: keep root's
    if follow:
        os.chmod(path, entry.mode)
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=follow)
