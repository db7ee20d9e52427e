"""Applying a restore plan: folders, then files (set by set), then FIFOs and links, then folder metadata.

Everything is written through descriptors of the destination's folders (see
destination.py): nothing is looked up by path from the root, nothing is followed, so a
link in the way or swapped in cannot carry a write outside the destination.

Every file, link and FIFO is made in its folder without a name (O_TMPFILE, where the
file system has it) or under a temporary name (never past NAME_MAX), checked (SHA-256
as it streams, then the driver's own check), given its owner, mode, attributes and
times, and only then given its name: an existing item is either left alone or replaced
whole, as the plan says. Hard links are made to the
first restored name of their inode. Folder metadata is set last, deepest first,
because writing into a folder changes its mtime.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..archive import ROOT, Entry, display_path, tar_format
from ..archive.page_delta import SetAccess, rebuild
from ..leftovers import remove_stale_partials, temporary_name_for
from ..remedies import Remedy, with_fix
from ..free_space import room_at
from ..units import counted, human_bytes
from ..stores import AppearedDuringRestore, RestoreSpot, StoreDriver, StoreError, place
from .destination import DestinationTree
from .metadata import MetadataProblems, Target, apply_metadata
from .plan import CREATE, KEEP, REPLACE, WRITING, Action, RestorePlan

_UNNAMED_FLAGS = os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FIFO_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITING = WRITING


@dataclass
class RestoreResult:
    files_written: int = 0
    bytes_written: int = 0
    links_written: int = 0
    hard_links_written: int = 0
    fifos_written: int = 0
    folders_created: int = 0
    kept: int = 0
    leftovers_removed: int = 0  # partial files of killed restores, removed from the destination
    warnings: list[str] = field(default_factory=list)


class RestoreHooks:
    """How apply_plan reports and is stopped (the restore job implements these)."""

    def advance(self, size: int) -> None: ...

    def file_done(self, path: str) -> None: ...

    def check_cancelled(self) -> None: ...


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def destination_error(error: OSError, root) -> StoreError:
    where = display_path(str(error.filename or root))
    if error.errno in _FULL:
        return with_fix(StoreError(f"the restore destination {where} is full ({error.strerror}); the file being "
                                   "written was removed, the files restored before it are in place"),
                        Remedy.RESTORE_ELSEWHERE)
    return with_fix(StoreError(f"cannot write to the restore destination {where} ({error.strerror})"),
                    Remedy.RESTORE_ELSEWHERE)


def check_free_space(plan: RestorePlan) -> None:
    """Refuse, before anything is written, a restore that cannot fit in its destination's free space."""
    needed = plan.bytes_to_write
    room = room_at(plan.root)
    if room is None:
        return  # the writes themselves will say what is wrong
    free = room.free
    if needed > free:
        raise with_fix(StoreError(f"the restore destination {display_path(str(plan.root))} has {human_bytes(free)} "
                                  f"free, but this restore writes {human_bytes(needed)}"), Remedy.RESTORE_ELSEWHERE)


class _Applier:
    def __init__(self, plan: RestorePlan, driver: StoreDriver, sets: SetAccess, hooks: RestoreHooks,
                 tree: DestinationTree) -> None:
        self.plan = plan
        self.sets = sets
        self.driver = driver
        self.hooks = hooks
        self.tree = tree
        self.result = RestoreResult(kept=plan.count(KEEP))
        self.problems = MetadataProblems()
        self.appeared: list[str] = []
        self.cleaned: set[str] = set()  # folders whose leftovers were removed
        self.unnamed_files = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
        self.current: Action | None = None  # the item being written, for messages

    def run(self) -> RestoreResult:
        """Few reads of the plan's entries, whatever their number: memory stays flat.

        The first read makes the folders, symbolic links and FIFOs and writes the files of
        the first set; each further set of the chain gets a read of its own. Hard links are
        made in the last of these reads, when every file they can link to is in place (a
        link's file sorts before it). A last read, in reverse, sets folder metadata.
        """
        plan = self.plan
        sets = plan.file_sets or ("",)
        for number, set_id in enumerate(sets):
            first, last = number == 0, number == len(sets) - 1
            reader = self.sets.open(set_id) if set_id else None
            try:
                for item in plan.actions():
                    kind = item.entry.type
                    if first and kind == "dir":
                        if item.action == CREATE and item.relative != ROOT:
                            self._make_folder(item)
                    elif item.action not in _WRITING:
                        continue
                    elif kind == "file":
                        if item.entry.set_id == set_id:
                            self.hooks.check_cancelled()
                            self._write_file(item, reader.member(item.entry))
                            self.hooks.file_done(item.entry.path)
                    elif (first and kind in ("symlink", "fifo")) or (last and kind == "hardlink"):
                        self.hooks.check_cancelled()
                        self._make_special(item)
            finally:
                if reader is not None:
                    reader.close()
        if plan.count(CREATE, "dir"):
            for item in plan.actions(reverse=True):  # deepest first: what is written into a folder moves its mtime
                if item.entry.type == "dir" and item.action == CREATE:
                    self._folder_metadata(item)
        self.result.warnings = self.problems.warnings()
        if self.appeared:
            shown = ", ".join(f"'{display_path(path)}'" for path in self.appeared[:3])
            self.result.warnings.append(f"{counted(len(self.appeared), 'item')} appeared or changed in the destination after "
                                        f"the restore was planned, and were kept as they are: {shown}")
            self.result.kept += len(self.appeared)
        return self.result

    # -- folders --------------------------------------------------------------------------

    def _make_folder(self, item: Action) -> None:
        self.current = item
        folder, name = self.tree.parent_of(item.relative, create=True)
        try:
            os.mkdir(name, 0o700, dir_fd=folder)
        except FileExistsError:
            self.tree.folder(item.relative.split("/"))  # a folder made meanwhile is fine; a link is refused
            return
        self.result.folders_created += 1

    def _folder_metadata(self, item: Action) -> None:
        self.current = item
        fd = self.tree.fd if item.relative == ROOT else self.tree.folder(item.relative.split("/"))
        apply_metadata(item.entry, Target(fd=fd), self.problems, path=item.entry.path)

    def _remove_leftovers(self, folder: int, relative: str) -> None:
        """Partial files of restores that were killed, in a folder this one writes into (once per folder)."""
        if relative in self.cleaned:
            return
        self.cleaned.add(relative)
        self.result.leftovers_removed += len(remove_stale_partials(folder))

    # -- files, links, FIFOs ----------------------------------------------------------------

    def _spot(self, item: Action) -> RestoreSpot:
        self.current = item
        folder, name = self.tree.parent_of(item.relative, create=True)
        self._remove_leftovers(folder, item.relative.rpartition("/")[0])
        return RestoreSpot(folder, name, temporary_name_for(name), item.action == REPLACE, item.destination)

    def _write_file(self, item: Action, chunks: Iterator[bytes]) -> None:
        """Write, check and give metadata to a file with no name (O_TMPFILE) or a temporary one, then name it."""
        spot = self._spot(item)
        fd = self._unnamed_file(spot)
        unnamed = fd is not None
        if fd is None:
            fd = _create(spot)
        placed = False
        try:
            if item.entry.delta is not None:
                with os.fdopen(fd, "w+b", closefd=False) as target:
                    rebuild(target, item.entry, chunks, self.sets, self.hooks.advance)
            elif item.entry.sparse is None:
                for chunk in chunks:  # straight to the descriptor: a file object costs 5 system calls more
                    _write_all(fd, chunk)
                    self.hooks.advance(len(chunk))
            else:
                with os.fdopen(fd, "w+b", closefd=False) as target:
                    _write_sparse(target, item.entry, chunks, self.hooks)
            self.driver.check_restored(spot, item.entry)
            apply_metadata(item.entry, Target(fd=fd), self.problems, path=item.entry.path)
            if unnamed and not spot.replace:
                placed = self._link_unnamed(fd, spot, item)
            else:
                if unnamed:  # replacing needs a name to rename from
                    os.link(f"/proc/self/fd/{fd}", spot.temporary, dst_dir_fd=spot.dir_fd, follow_symlinks=True)
                os.close(fd)
                fd = -1
                placed = self._place(spot, item)
        finally:
            if fd >= 0:
                os.close(fd)
            if not placed:
                _discard(spot)
        if placed:
            self.result.files_written += 1
            self.result.bytes_written += item.entry.size

    def _unnamed_file(self, spot: RestoreSpot) -> int | None:
        """A new file without a name in the spot's folder, or None where that cannot be had.

        Linking it in later is one change of the folder instead of three (create, link,
        unlink), it can never replace anything, and a restore killed half-way leaves nothing.
        """
        if not self.unnamed_files or self.driver.named_temporary:
            return None
        try:
            return os.open(".", _UNNAMED_FLAGS, 0o600, dir_fd=spot.dir_fd)
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                raise
        self.unnamed_files = False  # this file system cannot: temporary names from here on
        return None

    def _link_unnamed(self, fd: int, spot: RestoreSpot, item: Action) -> bool:
        try:
            os.link(f"/proc/self/fd/{fd}", spot.name, dst_dir_fd=spot.dir_fd, follow_symlinks=True)
        except FileExistsError:
            self.appeared.append(item.relative)
            return False
        return True

    def _make_special(self, item: Action) -> None:
        entry = item.entry
        data_fd = data_name = None
        if entry.type == "hardlink":  # the folder of the name it links to, held open past the next lookup
            data_folder, data_name = self.tree.parent_of(item.link_to or "")
            data_fd = os.dup(data_folder)
        spot = self._spot(item)
        _discard(spot)
        placed = False
        try:
            if entry.type == "symlink":
                os.symlink(entry.target or "", spot.temporary, dir_fd=spot.dir_fd)
                apply_metadata(entry, Target(dir_fd=spot.dir_fd, name=spot.temporary), self.problems, path=entry.path)
            elif entry.type == "fifo":
                os.mkfifo(spot.temporary, 0o600, dir_fd=spot.dir_fd)
                fd = os.open(spot.temporary, _FIFO_FLAGS, dir_fd=spot.dir_fd)
                try:
                    apply_metadata(entry, Target(fd=fd), self.problems, path=entry.path)
                finally:
                    os.close(fd)
            else:
                os.link(data_name, spot.temporary, src_dir_fd=data_fd, dst_dir_fd=spot.dir_fd, follow_symlinks=False)
            placed = self._place(spot, item)
        finally:
            if data_fd is not None:
                os.close(data_fd)
            if not placed:
                _discard(spot)
        if placed:
            if entry.type == "symlink":
                self.result.links_written += 1
            elif entry.type == "fifo":
                self.result.fifos_written += 1
            else:
                self.result.hard_links_written += 1

    def _place(self, spot: RestoreSpot, item: Action) -> bool:
        if spot.replace and self.plan.policy == "if-older" and not _still_older(spot, item):
            self.appeared.append(item.relative)  # rewritten since the plan: it is newer now, and kept
            return False
        try:
            if item.entry.type == "file":
                self.driver.install(spot)
            else:
                place(spot)
        except AppearedDuringRestore:
            self.appeared.append(item.relative)
            return False
        return True


def _still_older(spot: RestoreSpot, item: Action) -> bool:
    """``if-older``, asked again at the moment of writing: is what stands there still older than the set's?"""
    try:
        existing = os.stat(spot.name, dir_fd=spot.dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return True
    return not stat.S_ISDIR(existing.st_mode) and existing.st_mtime_ns < item.entry.mtime_ns


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _create(spot: RestoreSpot) -> int:
    """A new temporary file; a stale one of this process is replaced."""
    try:
        return os.open(spot.temporary, _WRITE_FLAGS, 0o600, dir_fd=spot.dir_fd)
    except FileExistsError:
        os.unlink(spot.temporary, dir_fd=spot.dir_fd)
    return os.open(spot.temporary, _WRITE_FLAGS, 0o600, dir_fd=spot.dir_fd)


def _discard(spot: RestoreSpot) -> None:
    try:
        os.unlink(spot.temporary, dir_fd=spot.dir_fd)
    except FileNotFoundError:
        pass


def _write_sparse(target, entry: Entry, chunks: Iterator[bytes], hooks: RestoreHooks) -> None:
    """A sparse member's stored bytes (its map, then its data regions) written with the holes left as holes."""
    skip = len(tar_format.sparse_map(entry.sparse or (), entry.size))
    regions = iter(entry.sparse or ())
    offset, left = next(regions, (0, 0))
    target.seek(offset)
    for chunk in chunks:
        view = memoryview(chunk)
        if skip:
            taken = min(skip, len(view))
            view, skip = view[taken:], skip - taken
        while view:
            while not left:
                offset, left = next(regions)
                target.seek(offset)
            piece = view[:left]
            target.write(piece)
            left -= len(piece)
            view = view[len(piece):]
        hooks.advance(len(chunk))
    target.truncate(entry.size)


def apply_plan(plan: RestorePlan, driver: StoreDriver, sets: SetAccess, hooks: RestoreHooks) -> RestoreResult:
    check_free_space(plan)
    applier = None
    try:
        with DestinationTree(plan.root, create=True) as tree:
            applier = _Applier(plan, driver, sets, hooks, tree)
            return applier.run()
    except OSError as error:
        named = str(error.filename or "/")
        if applier is not None and applier.current is not None and (not named.startswith("/")
                                                                    or named.startswith("/proc/self/fd/")):
            error.filename = str(applier.current.destination)  # relative to a folder's descriptor: show it whole
        raise destination_error(error, plan.root) from None
