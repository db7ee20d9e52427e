"""Changes of live rows, gathered and handed on in batches: a new state soon, progress at a steady pace.

A job reports progress ten times a second, and every report repainted its row (and, in
the Stores table, measured columns): with four backups, forty repaints a second of the
window's thread, each 4-15 ms on a busy two-core machine. Progress a quarter of a second
old reads as live; a state that changed (running, ended, cancelling) must show at once,
so the Jobs list, the Stores table and the lock panel never disagree for long.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QTimer

PROGRESS_INTERVAL_MS = 250


class ChangePacer(QObject):
    def __init__(self, deliver: Callable[[set], None], parent: QObject | None = None,
                 interval_ms: int = PROGRESS_INTERVAL_MS) -> None:
        """``deliver(keys)`` gets the keys that changed since the last batch, in the GUI thread."""
        super().__init__(parent)
        self._deliver, self._interval = deliver, interval_ms
        self._keys: set = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def soon(self, key: Hashable) -> None:
        """``key`` changed in a way that must show at once: in the next pass of the event loop."""
        self._keys.add(key)
        if not self._timer.isActive() or self._timer.interval() > 0:
            self._timer.start(0)

    def paced(self, key: Hashable) -> None:
        """``key`` changed in a way that may wait for the next batch (at most ``interval_ms``)."""
        self._keys.add(key)
        if not self._timer.isActive():
            self._timer.start(self._interval)

    def _fire(self) -> None:
        keys, self._keys = self._keys, set()
        if keys:
            self._deliver(keys)
