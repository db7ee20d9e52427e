"""Progress of a job: counts, current path, throughput and ETA, reported at a bounded rate."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

REPORT_INTERVAL = 0.1  # seconds between progress reports
RATE_WINDOW = 3.0  # seconds of history the throughput is measured over


@dataclass(frozen=True)
class Progress:
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    current_path: str = ""
    throughput: float = 0.0  # bytes per second, over the last few seconds
    eta: float | None = None  # seconds, when it can be estimated

    @property
    def fraction(self) -> float | None:
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.files_total:
            return min(1.0, self.files_done / self.files_total)
        return None

    def public_dict(self) -> dict:
        return {"bytes_done": self.bytes_done, "bytes_total": self.bytes_total, "files_done": self.files_done,
                "files_total": self.files_total, "current_path": self.current_path,
                "throughput": round(self.throughput), "eta": None if self.eta is None else round(self.eta, 1)}


class ProgressMeter:
    """Thread-safe counters that call ``report(progress)`` at most every REPORT_INTERVAL."""

    def __init__(self, report: Callable[[Progress], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._report = report
        self._clock = clock
        self._lock = threading.Lock()
        self._bytes_done = self._bytes_total = self._files_done = self._files_total = 0
        self._current = ""
        self._samples: deque[tuple[float, int]] = deque()
        self._last_report = float("-inf")

    def set_totals(self, files: int, size: int) -> None:
        with self._lock:
            self._files_total, self._bytes_total = files, size
        self._maybe_report(force=True)

    def advance(self, size: int = 0, *, files: int = 0, path: str | None = None) -> None:
        with self._lock:
            self._bytes_done += size
            self._files_done += files
            if path is not None:
                self._current = path
        self._maybe_report()

    def snapshot(self) -> Progress:
        with self._lock:
            now = self._clock()
            samples = self._samples
            samples.append((now, self._bytes_done))
            while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW:
                samples.popleft()
            elapsed = now - samples[0][0]
            rate = (self._bytes_done - samples[0][1]) / elapsed if elapsed > 0 else 0.0
            remaining = self._bytes_total - self._bytes_done
            # Nothing left to read is not "0 s left": the last bytes may still be compressing, or a set verified.
            eta = remaining / rate if rate > 0 and remaining > 0 else None
            return Progress(self._bytes_done, self._bytes_total, self._files_done, self._files_total,
                            self._current, rate, eta)

    def finish(self) -> Progress:
        """Report the final counts whatever the rate limit."""
        return self._maybe_report(force=True)

    def _maybe_report(self, force: bool = False) -> Progress:
        now = self._clock()
        if not force and now - self._last_report < REPORT_INTERVAL:
            return Progress()
        self._last_report = now
        progress = self.snapshot()
        self._report(progress)
        return progress
