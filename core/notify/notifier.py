"""Delivering notices through every configured channel, off the job's thread, with retries.

A plan run hands its outcome here and goes on: each channel is tried in a thread of its own,
RETRIES times with growing waits (BACKOFF seconds) when it fails, every failure logged. A
notice never fails or delays a backup. ``test`` sends once through each channel and says how
each went (``strongroom notify test``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .channels import ChannelError, send_email, send_webhook
from ..job_state import JobState
from .config import NotifyError, NotifySettings
from .notice import Notice

BACKOFF = (5.0, 30.0, 120.0)  # waits before the 2nd, 3rd and 4th tries


def worth_telling(settings: NotifySettings, result: str) -> bool:
    if result in (JobState.FAILED, JobState.CANCELLED):
        return True
    return (result == JobState.WARNINGS and (settings.on_warnings or settings.on_success)) or (
        result == JobState.SUCCEEDED and settings.on_success)


def _send(settings: NotifySettings, channel: str, notice: Notice) -> str:
    try:
        if channel == "email":
            return send_email(settings.email, notice)
        return send_webhook(settings.webhook, notice)
    except NotifyError as error:  # e.g. the password file is not private
        raise ChannelError(str(error)) from None


class Notifier:
    def __init__(self, settings: NotifySettings, log: Callable[[str], None], *, backoff: tuple[float, ...] = BACKOFF,
                 stop: threading.Event | None = None) -> None:
        self.settings = settings
        self._log = log
        self._backoff = backoff
        self._stop = stop or threading.Event()
        self.threads: list[threading.Thread] = []

    def tell(self, notice: Notice) -> None:
        """Deliver ``notice`` in the background when its result is one the settings ask to hear of."""
        if not worth_telling(self.settings, notice.result):
            return
        for channel in self.settings.channels:
            thread = threading.Thread(target=self._deliver, args=(channel, notice), name=f"notify {channel}",
                                      daemon=True)
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]
            thread.start()

    def _deliver(self, channel: str, notice: Notice) -> None:
        for attempt, wait in enumerate((0.0, *self._backoff), 1):
            if wait and self._stop.wait(wait):
                self._log(f"notification by {channel} given up: stopping")
                return
            try:
                where = _send(self.settings, channel, notice)
            except ChannelError as error:
                more = f"; trying again in {self._backoff[attempt - 1]:g} s" if attempt <= len(self._backoff) else \
                    "; giving up"
                self._log(f"notification by {channel} failed (try {attempt}): {error}{more}")
                continue
            self._log(f"notification by {channel}: {where}")
            return

    def test(self) -> list[tuple[str, bool, str]]:
        """Send a test notice once through each channel: (channel, delivered, what happened)."""
        results = []
        for channel in self.settings.channels:
            try:
                results.append((channel, True, _send(self.settings, channel, Notice("test", "succeeded"))))
            except ChannelError as error:
                results.append((channel, False, str(error)))
        return results
