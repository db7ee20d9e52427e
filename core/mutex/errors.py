"""Errors of the mutex engine; each message names the mutex and, where known, its holder."""

from __future__ import annotations

from .records import MutexRecord


class MutexError(Exception):
    """Base class of every mutex error."""


class MutexTimeout(MutexError):
    """A wait for a mutex ran out of time. ``holder`` is who held it then, if known."""

    def __init__(self, name: str, timeout: float, holder: MutexRecord | None, blocker: str) -> None:
        super().__init__(f"timed out after {timeout:g} s waiting for mutex {name}: {blocker}")
        self.name = name
        self.timeout = timeout
        self.holder = holder


class MutexCancelled(MutexError):
    """A wait for a mutex was cancelled by its caller."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the wait for mutex {name} was cancelled")
        self.name = name


class NotOwnerError(MutexError):
    """A release (or other owner-only act) by a thread that does not hold the mutex."""


class AlreadyHeldError(MutexError):
    """A thread asked for a mutex it already holds; waiting would deadlock on itself."""


class BreakRefused(MutexError):
    """A request to break a mutex record that is held by a live process on this host."""
