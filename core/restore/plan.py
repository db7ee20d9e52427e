"""Planning a restore: which member lands where, and what happens to what is already there.

A plan is computed before anything is written, so that ``--dry-run`` shows exactly what a
restore would do, and so that a hostile set or a destination with a link in the way is
refused before the first byte lands. Nothing is ever written outside the restore root.

Hard links come back as one inode with all its names: the first name restored gets the
data, the others are linked to it. A name whose data-holding name is not restored
(it was not asked for, or is kept) gets the data itself.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..archive import ROOT, Entry, HostileSet, SetManifest, display_path
from ..archive.page_delta import logical_path
from ..stores import StoreDriver, StoreError
from .destination import DestinationTree

OVERWRITE_POLICIES = ("never", "if-older", "always")

CREATE, REPLACE, KEEP, EXISTS = "create", "replace", "keep", "exists"


@dataclass(frozen=True)
class RestoreOptions:
    to: Path | None = None
    overwrite: str = "never"
    paths: tuple[str, ...] = ()
    dry_run: bool = False
    untrusted: bool = False  # a set from elsewhere: restored tamed (see ``tamed``)

    def __post_init__(self) -> None:
        if self.overwrite not in OVERWRITE_POLICIES:
            raise ValueError(f"unknown overwrite policy {self.overwrite!r}; use one of: {', '.join(OVERWRITE_POLICIES)}")
        if self.untrusted and self.to is None:
            raise ValueError("a set from elsewhere is restored only into a folder given with --to")


_UNTRUSTED_MODE = ~(stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWOTH) & 0o7777


def tamed(entry: Entry) -> Entry:
    """An entry of a set that is not in this catalog, made harmless to restore as root.

    No set-id or sticky bit, nothing world-writable, owned by the restoring user (no owner
    recorded), and only ``user.*`` extended attributes: ``security.capability`` would grant
    privileges, ``trusted.*`` and ACLs can open files to others.
    """
    return replace(entry, mode=entry.mode & _UNTRUSTED_MODE, uid=os.getuid(), gid=os.getgid(), user=None,
                   group=None, xattrs=tuple((name, value) for name, value in entry.xattrs if name.startswith("user.")))


@dataclass(frozen=True)
class Action:
    entry: Entry
    destination: Path
    action: str  # create | replace | keep (an existing item stays) | exists (a folder that is already there)
    reason: str = ""
    relative: str = ""  # the destination below the restore root ("." for the root itself)
    link_to: str | None = None  # a hard link: the restored name (below the root) it is linked to

    def line(self) -> str:
        if self.entry.type == "file":
            size = f"{self.entry.size} bytes"
        elif self.link_to is not None:
            size = f"hard link to {display_path(self.link_to)}"
        else:
            size = self.entry.type
        note = f" ({self.reason})" if self.reason else ""
        return f"{self.action:<8} {display_path(str(self.destination))}  [{size}]{note}"


@dataclass
class RestorePlan:
    root: Path
    actions: list[Action] = field(default_factory=list)
    policy: str = "never"  # decided again when each item is written: the destination may change meanwhile

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for item in self.actions if item.action == action and kind in (None, item.entry.type))

    @property
    def bytes_to_write(self) -> int:
        """The file bytes the restore writes (a sparse file's data regions only: its holes take no space)."""
        return sum(item.entry.size if item.entry.sparse is None else sum(length for _, length in item.entry.sparse)
                   for item in self.actions if item.action in (CREATE, REPLACE) and item.entry.type == "file")

    def lines(self) -> list[str]:
        return [item.line() for item in self.actions]


def select_entries(manifest: SetManifest, paths: tuple[str, ...]) -> list[Entry]:
    """The entries at or below each requested path (all when none is given)."""
    if not paths:
        return list(manifest.entries)
    wanted = [_relative(path, manifest) for path in paths]
    chosen = [entry for entry in manifest.entries
              if any(name == path or name.startswith(path + "/") for path in wanted
                     for name in {entry.path, logical_path(entry)})]
    for path in wanted:
        if not any(name == path or name.startswith(path + "/") for entry in chosen
                   for name in {entry.path, logical_path(entry)}):
            raise StoreError(f"'{display_path(path)}' is not in set {manifest.set_id}: run 'strongroom browse {manifest.set_id}' "
                             "to list what it holds")
    return chosen


def _relative(path: str, manifest: SetManifest) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute():
        try:
            pure = pure.relative_to(manifest.source)
        except ValueError:
            raise StoreError(f"{path} is not inside the store's path {manifest.source}: give a path relative to "
                             "the store") from None
    text = str(pure).strip("/")
    return "" if text == "." else text


def build_plan(manifest: SetManifest, driver: StoreDriver, store_path: Path, options: RestoreOptions) -> RestorePlan:
    root = driver.restore_root(store_path, options.to).absolute()
    plan = RestorePlan(root, policy=options.overwrite)
    files = {entry.path: tamed(entry) if options.untrusted else entry
             for entry in manifest.entries if entry.type == "file"}
    written: dict[str, str] = {}  # a file's path in the set -> where its data is restored (hard links follow it)
    tree = DestinationTree.existing(root)
    try:
        fresh = tree is None or not os.listdir(tree.fd)
        for entry in select_entries(manifest, options.paths):
            if options.untrusted:
                entry = tamed(entry)
            destination = driver.destination(root, store_path, entry)
            if entry.path == ROOT and entry.type == "dir":
                plan.actions.append(Action(entry, root, CREATE if fresh or options.overwrite == "always" else EXISTS,
                                           relative=ROOT))
                continue
            if not destination.is_relative_to(root) or destination == root:
                raise HostileSet(f"set member '{display_path(entry.path)}' would land at {destination}, outside "
                                 f"{root}: refusing to restore", entry.path)
            relative = destination.relative_to(root).as_posix()
            action = _decide(entry, destination, relative, options.overwrite, tree)
            if action.action in (CREATE, REPLACE):
                action = _hard_links(action, files, written)
            plan.actions.append(action)
    finally:
        if tree is not None:
            tree.close()
    return plan


def _hard_links(action: Action, files: dict[str, Entry], written: dict[str, str]) -> Action:
    """Link a hard link to its data's restored name; the first name restored of an inode gets the data."""
    entry = action.entry
    if entry.type == "file":
        written.setdefault(entry.path, action.relative)
        return action
    if entry.type != "hardlink":
        return action
    holder = entry.target or ""
    if holder in written:
        return replace(action, link_to=written[holder])
    written[holder] = action.relative
    return replace(action, entry=replace(files[holder], path=entry.path))


def _decide(entry: Entry, destination: Path, relative: str, policy: str, tree: DestinationTree | None) -> Action:
    try:
        existing = tree.lstat(relative) if tree is not None else None
    except NotADirectoryError:
        return Action(entry, destination, KEEP, "a file is in the way of its folder", relative)
    if existing is None:
        return Action(entry, destination, CREATE, relative=relative)
    existing_is_dir = stat.S_ISDIR(existing.st_mode)
    if entry.type == "dir":
        if existing_is_dir:
            return Action(entry, destination, EXISTS, relative=relative)
        return Action(entry, destination, KEEP, "something that is not a folder is in the way", relative)
    if existing_is_dir:
        return Action(entry, destination, KEEP, "a folder is in the way; folders are never replaced", relative)
    if policy == "always":
        return Action(entry, destination, REPLACE, "overwrite always", relative)
    if policy == "if-older":
        if existing.st_mtime_ns < entry.mtime_ns:
            return Action(entry, destination, REPLACE, "the existing one is older", relative)
        return Action(entry, destination, KEEP, "the existing one is not older", relative)
    return Action(entry, destination, KEEP, "exists; overwrite policy is never", relative)
