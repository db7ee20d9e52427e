"""The process-wide registry of store-type mutexes in one lock directory.

Jobs ask it for the mutex of their store's type (one each: no job touches stores of two
types). Listeners (the console's lock panel) hear at once when a mutex of this process changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..store_types import check_type_name, registered_type_names
from .lockdir import LockDirectory
from .status import MutexStatus, snapshot
from .type_mutex import CancelCheck, Hold, MutexOwner, StoreTypeMutex

log = logging.getLogger(__name__)

Listener = Callable[[str], None]


class MutexRegistry:
    """Hands out the store-type mutexes of one lock directory to this process's jobs."""

    _instances: dict[tuple[str, str], MutexRegistry] = {}
    _instances_lock = threading.Lock()

    def __init__(self, lockdir: LockDirectory) -> None:
        self.lockdir = lockdir
        lockdir.ensure()
        self._mutexes: dict[str, StoreTypeMutex] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    @classmethod
    def for_directory(cls, lockdir: LockDirectory) -> MutexRegistry:
        """The one registry of this process for a lock directory (threads must share it)."""
        key = (str(lockdir.path.resolve()), lockdir.scope)
        with cls._instances_lock:
            registry = cls._instances.get(key)
            if registry is None:
                registry = cls._instances[key] = cls(lockdir)
            return registry

    def mutex(self, store_type: str) -> StoreTypeMutex:
        check_type_name(store_type)
        with self._lock:
            mutex = self._mutexes.get(store_type)
            if mutex is None:
                mutex = self._mutexes[store_type] = StoreTypeMutex(self.lockdir, store_type, self._changed)
            return mutex

    def acquire(self, store_type: str, owner: MutexOwner, *, timeout: float,
                cancel: threading.Event | CancelCheck | None = None) -> Hold:
        """Wait for the mutex of ``store_type``; see StoreTypeMutex.acquire."""
        return self.mutex(store_type).acquire(owner, timeout=timeout, cancel=cancel)

    def status(self) -> list[MutexStatus]:
        """A snapshot of every mutex this process or the lock directory knows of."""
        with self._lock:
            known = set(self._mutexes)
        return snapshot(self.lockdir, known | set(registered_type_names()))

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(store_type)`` whenever a mutex of this process changes (any thread)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _changed(self, store_type: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(store_type)
            except Exception:  # a broken listener must not break a job's mutex
                log.exception("mutex listener %r failed", listener)
