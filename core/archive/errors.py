"""Errors of the backup-set format. Each message names the set or member and what to do."""

from __future__ import annotations


class ArchiveError(Exception):
    """A backup set that cannot be written or read."""


class DamagedSet(ArchiveError):
    """A set whose bytes are not what was written: flipped, truncated or missing."""

    def __init__(self, message: str, members: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.members = members


class HostileSet(ArchiveError):
    """A set whose members would land outside the restore destination (or are devices)."""

    def __init__(self, message: str, member: str) -> None:
        super().__init__(message)
        self.member = member


class TargetFull(ArchiveError):
    """The target ran out of space (or hit a file-size limit) while a set was written."""
