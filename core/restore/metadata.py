"""Putting an item's owner, mode, extended attributes, ACLs and times back, through descriptors.

The order matters: ``chown`` clears set-id bits and file capabilities, so it comes
first; then the mode (set-id and sticky bits included); then the extended attributes
(POSIX ACLs are the ``system.posix_acl_*`` ones, and setting them fixes the group
bits to the ACL's mask, as on the original); the times last.

Run by root, a restore gives items their owners the way GNU tar does as root: the
user and group *names* recorded in the set when this system knows them, else the
numbers. Run by anyone else, the items stay the restoring user's own.

What the destination cannot take (a file system without extended attributes or ACLs,
an attribute only root may set) is not an error: it is counted and reported once per
kind, naming the first items, and the job ends with warnings.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
from dataclasses import dataclass, field
from functools import lru_cache

from ..archive import Entry, display_path
from ..units import counted

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
_UNSUPPORTED = (errno.ENOTSUP, errno.EOPNOTSUPP)
_SHOWN = 3


@lru_cache(maxsize=4096)
def _local_id(kind: str, name: str | None, number: int) -> int:
    """The id this system gives a recorded user or group name (as GNU tar restores as root), else the number."""
    if name:
        try:
            return pwd.getpwnam(name).pw_uid if kind == "user" else grp.getgrnam(name).gr_gid
        except KeyError:
            pass
    return number


@dataclass
class MetadataProblems:
    """What could not be put back, by kind of problem: the items it concerns."""

    items: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, what: str, why: str, path: str) -> None:
        self.items.setdefault((what, why), []).append(path)

    def warnings(self) -> list[str]:
        lines = []
        for (what, why), paths in self.items.items():
            shown = ", ".join(f"'{display_path(path)}'" for path in paths[:_SHOWN])
            more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
            lines.append(f"{what} of {counted(len(paths), 'item')} not restored — {why}: {shown}{more}")
        return lines


@dataclass(frozen=True)
class Target:
    """An item being restored: an open descriptor, or (for a symbolic link) a name in an open folder."""

    fd: int | None = None
    dir_fd: int | None = None
    name: str | None = None

    @property
    def proc_path(self) -> str:
        return f"/proc/self/fd/{self.dir_fd}/{self.name}"


def apply_metadata(entry: Entry, target: Target, problems: MetadataProblems, *, path: str) -> None:
    """Owner, mode, extended attributes and times of ``entry`` onto ``target`` (``path`` names it in reports)."""
    link = target.fd is None
    if AS_ROOT:
        uid, gid = _local_id("user", entry.user, entry.uid), _local_id("group", entry.group, entry.gid)
        try:
            if link:
                os.chown(target.name, uid, gid, dir_fd=target.dir_fd, follow_symlinks=False)
            else:
                os.chown(target.fd, uid, gid)
        except OSError as error:
            problems.add("the owner", error.strerror or str(error), path)
    if not link:
        os.chmod(target.fd, entry.mode)
    for name, value in entry.xattrs:
        try:
            if link:
                os.setxattr(target.proc_path, name, value, follow_symlinks=False)
            else:
                os.setxattr(target.fd, name, value)
        except OSError as error:
            what = "POSIX ACLs" if name.startswith("system.posix_acl_") else "extended attributes"
            if error.errno in _UNSUPPORTED:
                why = "the destination's file system does not support them; restore onto ext4, XFS or Btrfs to keep them"
            elif error.errno in (errno.EPERM, errno.EACCES):
                why = f"only root may set some of them ({name}); restore as root to keep them"
            else:
                why = error.strerror or str(error)
            problems.add(what, why, path)
    times = (entry.mtime_ns, entry.mtime_ns)
    if link:
        os.utime(target.name, ns=times, dir_fd=target.dir_fd, follow_symlinks=False)
    else:
        os.utime(target.fd, ns=times)
