"""One daemon thread per process that refreshes the heartbeat of every held or awaited mutex.

A heartbeat lets another host (which cannot check our pid) see that a holder or waiter
is still there. It never decides anything on this host: liveness here is proven from
the pid and its start time.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

HEARTBEAT_INTERVAL = 2.0

log = logging.getLogger(__name__)


class Beating(Protocol):
    def beat(self, now: float) -> None: ...


class Heartbeat:
    """Calls ``beat(now)`` on every registered object every ``interval`` seconds."""

    def __init__(self, interval: float = HEARTBEAT_INTERVAL) -> None:
        self.interval = interval
        self._members: weakref.WeakSet[Beating] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, member: Beating) -> None:
        with self._lock:
            self._members.add(member)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="strongroom-mutex-heartbeat", daemon=True)
                self._thread.start()

    def discard(self, member: Beating) -> None:
        with self._lock:
            self._members.discard(member)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)  # a daemon thread; it dies with the process
            with self._lock:
                members = list(self._members)
            now = time.time()
            for member in members:
                try:
                    member.beat(now)
                except OSError as error:
                    log.warning("could not refresh a mutex heartbeat: %s", error)


HEARTBEAT = Heartbeat()
