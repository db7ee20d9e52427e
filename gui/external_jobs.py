"""Jobs the console shows but did not start itself: those of the plans it runs.

A plan run starts its jobs in its own threads (as the agent does). ``attach`` is called
there, before any of them runs: it announces each job, then listens to it, and every
signal is queued into the GUI thread in that order, so the Jobs view sees a job before
any of its states. The JobManager treats them as its own (counts, cancel, close).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.jobs import Job, JobListener, JobState
from ..core.jobs.progress import Progress


class ExternalJobs(QObject):
    adopted = Signal(object)  # Job, before it runs
    state_changed = Signal(str, str)  # job id, JobState value
    progressed = Signal(str, object)  # job id, Progress
    logged = Signal(str, str)  # job id, line
    ended = Signal(str)  # job id, in its final state

    def attach(self, jobs: list[Job]) -> None:
        """Show ``jobs`` (any thread, before they run)."""
        for job in jobs:
            self.adopted.emit(job)
            job.add_listener(_Bridge(self))


class _Bridge(JobListener):
    def __init__(self, signals: ExternalJobs) -> None:
        self.signals = signals

    def job_state(self, job: Job, state: JobState) -> None:
        self.signals.state_changed.emit(job.id, state.value)
        if state.terminal:
            self.signals.ended.emit(job.id)

    def job_progress(self, job: Job, progress: Progress) -> None:
        self.signals.progressed.emit(job.id, progress)

    def job_log(self, job: Job, line: str) -> None:
        self.signals.logged.emit(job.id, line)
