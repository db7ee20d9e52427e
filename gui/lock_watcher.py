"""Watches the store-type mutexes from a thread of its own and reports snapshots by signal.

Reading the lock directory is file I/O (the directory may sit on a shared or slow
disk), so it never happens in the GUI thread. Other processes' holders are seen by
polling every POLL_MS; this process's changes arrive through the registry's listener
and trigger a read at once.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..core.mutex import MutexRegistry

log = logging.getLogger(__name__)

POLL_MS = 250  # other processes' holders show within half a second


class _Poller(QObject):
    """Lives in the watcher thread: reads the status on a timer or when poked."""

    statuses = Signal(list)  # list[MutexStatus], only when it changed
    failed = Signal(str)

    def __init__(self, registry: MutexRegistry) -> None:
        super().__init__()
        self.registry = registry
        self._last: list | None = None
        self._last_error = ""
        self._timer: QTimer | None = None

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def refresh(self) -> None:
        try:
            current = self.registry.status()
        except Exception as error:  # an unreadable lock directory must not end the watcher
            message = f"cannot read the lock directory {self.registry.lockdir.path}: {error}"
            if message != self._last_error:
                self._last_error = message
                log.warning("%s", message)
                self.failed.emit(message)
            return
        self._last_error = ""
        if current != self._last:
            self._last = current
            self.statuses.emit(current)


class LockWatcher(QObject):
    """Owns the watcher thread; ``statuses_changed`` carries each new snapshot to the GUI."""

    statuses_changed = Signal(list)
    failed = Signal(str)
    _poke = Signal()
    _stop = Signal()

    def __init__(self, registry: MutexRegistry, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.latest: list = []
        self._thread = QThread(self)
        self._thread.setObjectName("lock watcher")
        self._poller = _Poller(registry)
        self._poller.moveToThread(self._thread)
        self._thread.started.connect(self._poller.start)
        self._thread.finished.connect(self._poller.deleteLater)
        self._poller.statuses.connect(self._received)
        self._poller.failed.connect(self.failed)
        self._poke.connect(self._poller.refresh)
        self._stop.connect(self._poller.stop)
        registry.add_listener(self._mutex_changed)

    def start(self) -> None:
        self._thread.start()

    def refresh_now(self) -> None:
        self._poke.emit()

    def stop(self, timeout_ms: int = 3000) -> None:
        self.registry.remove_listener(self._mutex_changed)
        if self._thread.isRunning():
            self._stop.emit()
            self._thread.quit()
            self._thread.wait(timeout_ms)

    def _mutex_changed(self, _store_type: str) -> None:  # any thread: a job took, released or queued
        self._poke.emit()

    def _received(self, statuses: list) -> None:
        self.latest = statuses
        self.statuses_changed.emit(statuses)
