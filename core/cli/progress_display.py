"""A live one-line-per-job progress display for a terminal (``backup`` and ``restore``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from ..jobs import Job, JobState
from ..units import human_bytes, human_duration, human_rate

REFRESH = 0.25


def job_line(job: Job) -> str:
    progress = job.progress
    if job.state == JobState.WAITING:
        holder = ""
        try:
            current = [s for s in job.engine.registry.status() if s.store_type == job.store_type]
            if current and current[0].holder is not None:
                holder = f", held by {current[0].holder.describe()}"
        except Exception:  # the display must never break a job
            holder = ""
        return f"{job.store_name}: waiting for mutex {job.mutex_name}{holder}"
    if job.state == JobState.RUNNING:
        fraction = progress.fraction
        percent = f"{fraction:4.0%}" if fraction is not None else "  … "
        return (f"{job.store_name}: {job.operation} {percent} {human_bytes(progress.bytes_done)}/"
                f"{human_bytes(progress.bytes_total)}, {progress.files_done}/{progress.files_total} files, "
                f"{human_rate(progress.throughput)}, ETA {human_duration(progress.eta)}")
    return f"{job.store_name}: {job.state.label}"


class ProgressDisplay:
    """Redraws the jobs' lines in place until stopped; does nothing when not on a terminal."""

    def __init__(self, jobs: Sequence[Job], stream: TextIO = sys.stderr) -> None:
        self.jobs = jobs
        self.stream = stream
        self.enabled = stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress display", daemon=True)
        self._drawn = 0

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join(5)
            self._erase()

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH):
            self._erase()
            lines = [job_line(job)[:160] for job in self.jobs]
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
            self._drawn = len(lines)

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}A\x1b[J")
            self.stream.flush()
            self._drawn = 0
