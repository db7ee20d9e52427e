"""Planning a restore: which member lands where, and what happens to what is already there.

A plan is computed before anything is written, so that ``--dry-run`` shows exactly what a
restore would do, and so that a hostile set or a destination with a link in the way is
refused before the first byte lands. Nothing is ever written outside the restore root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..archive import Entry, HostileSet, SetManifest
from ..stores import StoreDriver, StoreError

OVERWRITE_POLICIES = ("never", "if-older", "always")

CREATE, REPLACE, KEEP, EXISTS = "create", "replace", "keep", "exists"


@dataclass(frozen=True)
class RestoreOptions:
    to: Path | None = None
    overwrite: str = "never"
    paths: tuple[str, ...] = ()
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.overwrite not in OVERWRITE_POLICIES:
            raise ValueError(f"unknown overwrite policy {self.overwrite!r}; use one of: {', '.join(OVERWRITE_POLICIES)}")


@dataclass(frozen=True)
class Action:
    entry: Entry
    destination: Path
    action: str  # create | replace | keep (an existing item stays) | exists (a folder that is already there)
    reason: str = ""

    def line(self) -> str:
        size = f"{self.entry.size} bytes" if self.entry.type == "file" else self.entry.type
        note = f" ({self.reason})" if self.reason else ""
        return f"{self.action:<8} {self.destination}  [{size}]{note}"


@dataclass
class RestorePlan:
    root: Path
    actions: list[Action] = field(default_factory=list)

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for item in self.actions if item.action == action and kind in (None, item.entry.type))

    @property
    def bytes_to_write(self) -> int:
        return sum(item.entry.size for item in self.actions if item.action in (CREATE, REPLACE)
                   and item.entry.type == "file")

    def lines(self) -> list[str]:
        return [item.line() for item in self.actions]


def select_entries(manifest: SetManifest, paths: tuple[str, ...]) -> list[Entry]:
    """The entries at or below each requested path (all when none is given)."""
    if not paths:
        return list(manifest.entries)
    wanted = [_relative(path, manifest) for path in paths]
    chosen = [entry for entry in manifest.entries
              if any(entry.path == path or entry.path.startswith(path + "/") for path in wanted)]
    for path in wanted:
        if not any(entry.path == path or entry.path.startswith(path + "/") for entry in chosen):
            raise StoreError(f"{path!r} is not in set {manifest.set_id}: run 'strongroom browse {manifest.set_id}' "
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
    plan = RestorePlan(root)
    for entry in select_entries(manifest, options.paths):
        destination = driver.destination(root, store_path, entry)
        if not destination.is_relative_to(root) or destination == root:
            raise HostileSet(f"set member {entry.path!r} would land at {destination}, outside {root}: refusing to "
                             "restore", entry.path)
        _refuse_links_on_the_way(root, destination)
        plan.actions.append(_decide(entry, destination, options.overwrite))
    return plan


def _refuse_links_on_the_way(root: Path, destination: Path) -> None:
    """An existing link between the root and a destination would carry the write elsewhere."""
    current = root
    for part in destination.relative_to(root).parts[:-1]:
        current = current / part
        try:
            status = os.lstat(current)
        except FileNotFoundError:
            return
        except NotADirectoryError:
            return  # a file is in the way; writing will fail with a clear message
        if stat.S_ISLNK(status.st_mode):
            raise StoreError(f"{current} is a link; restoring through it could write outside {root}: remove the "
                             "link or restore with --to into an empty folder")


def _decide(entry: Entry, destination: Path, policy: str) -> Action:
    try:
        existing = os.lstat(destination)
    except FileNotFoundError:
        return Action(entry, destination, CREATE)
    except NotADirectoryError:
        return Action(entry, destination, CREATE)
    existing_is_dir = stat.S_ISDIR(existing.st_mode)
    if entry.type == "dir":
        if existing_is_dir:
            return Action(entry, destination, EXISTS)
        return Action(entry, destination, KEEP, "something that is not a folder is in the way")
    if existing_is_dir:
        return Action(entry, destination, KEEP, "a folder is in the way; folders are never replaced")
    if policy == "always":
        return Action(entry, destination, REPLACE, "overwrite always")
    if policy == "if-older":
        if existing.st_mtime_ns < entry.mtime_ns:
            return Action(entry, destination, REPLACE, "the existing one is older")
        return Action(entry, destination, KEEP, "the existing one is not older")
    return Action(entry, destination, KEEP, "exists; overwrite policy is never")
