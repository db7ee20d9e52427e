"""Run one function off the GUI thread and get its result (or its error) back as a signal.

Used for the slower reads a wizard needs (a big set's manifest, a restore plan that
looks at every destination), so that pages stay responsive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from .messages import error_text

log = logging.getLogger(__name__)


class _Relay(QObject):
    done = Signal(object, object)  # result, error text (None on success)


class _Call(QRunnable):
    def __init__(self, function: Callable[[], object], relay: _Relay) -> None:
        super().__init__()
        self.function = function
        self.relay = relay

    def run(self) -> None:
        try:
            result, error = self.function(), None
        except Exception as failure:
            result, error = None, error_text(failure)
        try:
            self.relay.done.emit(result, error)
        except RuntimeError:
            pass  # the window that asked has closed (its relay went with it): nobody wants the answer


class BackgroundCall(QObject):
    """``BackgroundCall(parent).run(function, on_done)``: ``on_done(result, error)`` in the GUI thread.

    A newer call supersedes an older one still running: only the latest result is
    delivered, so a page never shows an answer to a question it no longer asks.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0

    def run(self, function: Callable[[], object], on_done: Callable[[object, str | None], None]) -> None:
        self._generation += 1
        generation = self._generation
        relay = _Relay(self)

        def deliver(result: object, error: str | None) -> None:
            relay.deleteLater()
            if generation == self._generation:
                on_done(result, error)

        relay.done.connect(deliver)
        QThreadPool.globalInstance().start(_Call(function, relay))

    def supersede(self) -> None:
        """Forget the call still running, if any: its answer is no longer wanted (a newer one was read)."""
        self._generation += 1
