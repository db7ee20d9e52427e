"""Planning a restore: which member lands where, and what happens to what is already there.

A plan is computed before anything is written, so that ``--dry-run`` shows exactly what a
restore would do, and so that a hostile set or a destination with a link in the way is
refused before the first byte lands. Nothing is ever written outside the restore root.

A plan does not hold an object per item: it keeps one byte per selected entry (what
happens to it and why), in the manifest's order, and gives its actions again by reading
the selected entries once more beside those bytes. A million-file restore plans in a
megabyte.

Hard links come back as one inode with all its names: the first name restored gets the
data, the others are linked to it. A name whose data-holding name is not restored
(it was not asked for, or is kept) gets the data itself.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..archive import ROOT, Entry, HostileSet, SetManifest, display_path
from ..archive.entries import check_hard_link
from ..archive.manifest_blocks import sort_key
from ..archive.member_paths import check_member_path
from ..archive.page_delta import DELTA_SUFFIX
from ..invalid_value import InvalidValue
from ..remedies import Remedy, with_fix
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
    to_database: str | None = None  # a database store: load into this database instead of the store's own
    allow_damaged: bool = False  # restore a set whose last verify failed (or one it stands on) all the same

    def __post_init__(self) -> None:
        if self.overwrite not in OVERWRITE_POLICIES:
            raise InvalidValue(f"unknown overwrite policy {self.overwrite!r}; use one of: {', '.join(OVERWRITE_POLICIES)}")
        if self.untrusted and self.to is None:
            raise with_fix(InvalidValue("a set from elsewhere is never restored in place"), Remedy.CHOOSE_DESTINATION)


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
    root: Path
    action: str  # create | replace | keep (an existing item stays) | exists (a folder that is already there)
    reason: str = ""
    relative: str = ""  # the destination below the restore root ("." for the root itself)
    link_to: str | None = None  # a hard link: the restored name (below the root) it is linked to

    @property
    def destination(self) -> Path:
        return self.root if self.relative == ROOT else self.root / self.relative

    def line(self) -> str:
        if self.entry.type == "file":
            size = f"{self.entry.size} bytes"
        elif self.link_to is not None:
            size = f"hard link to {display_path(self.link_to)}"
        else:
            size = self.entry.type
        note = f" ({self.reason})" if self.reason else ""
        return f"{self.action:<8} {display_path(str(self.destination))}  [{size}]{note}"


# What can happen to an item, and why: a plan keeps the index of one per selected entry.
OUTCOMES = (
    (CREATE, ""), (EXISTS, ""), (REPLACE, "overwrite always"), (REPLACE, "the existing one is older"),
    (KEEP, "a file is in the way of its folder"), (KEEP, "something that is not a folder is in the way"),
    (KEEP, "a folder is in the way; folders are never replaced"), (KEEP, "the existing one is not older"),
    (KEEP, "exists; overwrite policy is never"),
)
_OUTCOME = {outcome: number for number, outcome in enumerate(OUTCOMES)}
WRITING = (CREATE, REPLACE)


@dataclass
class RestorePlan:
    root: Path
    manifest: SetManifest
    driver: StoreDriver
    store_path: Path
    options: RestoreOptions
    wanted: tuple[str, ...] = ()  # the paths asked for, relative to the store ("" for everything)
    outcomes: bytearray = field(default_factory=bytearray)  # one per selected entry, in order
    links: dict[str, str | None] = field(default_factory=dict)  # hard link -> the name it links to (None: data)
    tally: Counter = field(default_factory=Counter)  # (action, kind) -> items
    bytes_to_write: int = 0  # file bytes written (a sparse file's data regions only: holes take no space)
    file_sets: tuple[str, ...] = ()  # the sets that hold the files written

    @property
    def policy(self) -> str:
        return self.options.overwrite  # decided again when each item is written: the destination may change

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(number for (done, of_kind), number in self.tally.items()
                   if done == action and kind in (None, of_kind))

    def __len__(self) -> int:
        return len(self.outcomes)

    def actions(self, *, reverse: bool = False) -> Iterator[Action]:
        """Every action, in the manifest's order (a folder before what is in it) or reversed."""
        outcomes = reversed(self.outcomes) if reverse else iter(self.outcomes)
        for entry, number in zip(selected(self.manifest, self.wanted, reverse=reverse), outcomes):
            action, reason = OUTCOMES[number]
            yield self._action(entry, action, reason)

    def _action(self, entry: Entry, action: str, reason: str) -> Action:
        if self.options.untrusted:
            entry = tamed(entry)
        item = Action(entry, self.root, action, reason, self.place(entry))
        if entry.type == "hardlink" and action in WRITING:
            link_to = self.links.get(entry.path)
            if link_to is not None:
                return replace(item, link_to=link_to)
            holder = self.manifest.entries.find(entry.target or "")
            holder = tamed(holder) if self.options.untrusted else holder
            return replace(item, entry=replace(holder, path=entry.path))  # it gets the data itself
        return item

    def place(self, entry: Entry) -> str:
        """Where an entry lands below the root ("." for the root); HostileSet for anywhere outside."""
        if entry.path == ROOT and entry.type == "dir":
            return ROOT
        relative = self.driver.landing(self.root, self.store_path, entry)
        if relative is not entry.path:  # a member's own path was checked when the manifest was read
            check_member_path(relative)
        if relative == ROOT:
            raise HostileSet(f"set member '{display_path(entry.path)}' would land on the restore root {self.root} "
                             "itself: refusing to restore", entry.path)
        return relative

    def lines(self, limit: int | None = None) -> Iterator[str]:
        for number, item in enumerate(self.actions()):
            if limit is not None and number >= limit:
                return
            yield item.line()


def selected(manifest: SetManifest, wanted: tuple[str, ...], *, reverse: bool = False) -> Iterator[Entry]:
    """The entries at or below each wanted path (every entry when none is), in manifest order."""
    if not wanted:
        yield from manifest.entries.reversed() if reverse else manifest.entries
        return
    for path in reversed(wanted) if reverse else wanted:
        yield from manifest.entries.below(path, reverse=reverse)


def wanted_paths(manifest: SetManifest, paths: tuple[str, ...]) -> tuple[str, ...]:
    """The member paths asked for, in manifest order, none below another; StoreError for one not in the set.

    A database restored by name whose latest state is a page delta is found under its delta's name.
    """
    if not paths:
        return ()
    found = []
    for path in paths:
        relative = _relative(path, manifest)
        if not relative:
            return ()
        if next(manifest.entries.below(relative), None) is None:
            delta = manifest.entries.find(relative + DELTA_SUFFIX)
            if delta is None or delta.delta is None:
                raise with_fix(StoreError(f"'{display_path(relative)}' is not in set {manifest.set_id}"),
                               Remedy.BROWSE_SET, set=manifest.set_id)
            relative = delta.path
        found.append(relative)
    found.sort(key=sort_key)
    kept: list[str] = []
    for path in found:
        if not kept or not (path == kept[-1] or path.startswith(kept[-1] + "/")):
            kept.append(path)
    return tuple(kept)


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
    """Decide every item's fate, reading the selected entries once; nothing is written."""
    root = driver.restore_root(store_path, options.to).absolute()
    plan = RestorePlan(root, manifest, driver, store_path, options, wanted_paths(manifest, options.paths))
    data_names: dict[str, str] = {}  # a hard-linked file's path in the set -> where its data is restored
    file_sets: set[str] = set()
    tree = DestinationTree.existing(root)
    try:
        fresh = tree is None or not os.listdir(tree.fd)
        for entry in selected(manifest, plan.wanted):
            if options.untrusted:
                entry = tamed(entry)
            relative = plan.place(entry)
            if relative == ROOT:
                action, reason = (CREATE if fresh or options.overwrite == "always" else EXISTS), ""
            else:
                action, reason = _decide(entry, relative, options.overwrite, tree)
            plan.outcomes.append(_OUTCOME[action, reason])
            plan.tally[action, entry.type] += 1
            if action not in WRITING:
                continue
            if entry.type == "hardlink":
                holder = check_hard_link(entry, sort_key(entry.path), manifest.entries)
                if holder.path not in data_names and _written(plan, holder, tree):
                    data_names[holder.path] = plan.place(holder)
                link_to = data_names.setdefault(holder.path, relative)
                plan.links[entry.path] = None if link_to == relative else link_to
                if link_to == relative:
                    plan.bytes_to_write += _data_bytes(holder)
                    file_sets.add(holder.set_id)
            elif entry.type == "file":
                plan.bytes_to_write += _data_bytes(entry)
                file_sets.add(entry.set_id)
    finally:
        if tree is not None:
            tree.close()
    plan.file_sets = tuple(sorted(file_sets))
    return plan


def _written(plan: RestorePlan, holder: Entry, tree: DestinationTree | None) -> bool:
    """Whether the plan writes a hard link's data-holding file under its own name (decided as for any item)."""
    if plan.wanted and not any(holder.path == path or holder.path.startswith(path + "/") for path in plan.wanted):
        return False
    return _decide(holder, plan.place(holder), plan.policy, tree)[0] in WRITING


def _data_bytes(entry: Entry) -> int:
    return entry.size if entry.sparse is None else sum(length for _, length in entry.sparse)


def _decide(entry: Entry, relative: str, policy: str, tree: DestinationTree | None) -> tuple[str, str]:
    try:
        existing = tree.lstat(relative) if tree is not None else None
    except NotADirectoryError:
        return KEEP, "a file is in the way of its folder"
    if existing is None:
        return CREATE, ""
    existing_is_dir = stat.S_ISDIR(existing.st_mode)
    if entry.type == "dir":
        if existing_is_dir:
            return EXISTS, ""
        return KEEP, "something that is not a folder is in the way"
    if existing_is_dir:
        return KEEP, "a folder is in the way; folders are never replaced"
    if policy == "always":
        return REPLACE, "overwrite always"
    if policy == "if-older":
        if existing.st_mtime_ns < entry.mtime_ns:
            return REPLACE, "the existing one is older"
        return KEEP, "the existing one is not older"
    return KEEP, "exists; overwrite policy is never"
