"""The console's jobs: start them (each in its own worker), cancel them, count them.

Everything here runs in the GUI thread and never blocks: starting a job starts a
thread, cancelling sets a flag, and the workers report back through signals.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.jobs import Job, JobState
from .external_jobs import ExternalJobs
from .workers import JobWorker

ACTIVE = (JobState.QUEUED, JobState.WAITING, JobState.RUNNING)
# A worker's first milliseconds (the job pickled, its process started) take the interpreter from the window's
# thread just when the new rows are painted: four started at once stalled the window 20 ms longer. The first
# starts at once, each further one this much later; the rows show at once, as queued.
STAGGER_MS = 25


class JobManager(QObject):
    job_added = Signal(object)  # Job, before its worker starts
    jobs_added = Signal(list)  # the jobs started together, after each one's job_added: one table update for all
    job_changed = Signal(str)  # job id: state, progress or log changed
    job_logged = Signal(str, str)  # job id, line
    job_finished = Signal(object)  # Job, in its final state
    counts_changed = Signal(int, int)  # running, waiting
    all_finished = Signal()  # the last active job has ended

    def __init__(self, parent: QObject | None = None, *, isolated: bool = True) -> None:
        super().__init__(parent)
        self.isolated = isolated  # each job in a process of its own (workers.py)
        self.jobs: dict[str, Job] = {}
        self._workers: dict[str, JobWorker] = {}
        self._external: set[str] = set()  # running in a plan's threads (external_jobs.py)
        self._waiting_to_start: list[JobWorker] = []
        self._stagger = QTimer(self)
        self._stagger.setSingleShot(True)
        self._stagger.setInterval(STAGGER_MS)
        self._stagger.timeout.connect(self._start_next)
        self.external = ExternalJobs(self)
        self.external.adopted.connect(self._adopt)
        self.external.state_changed.connect(self._on_state)
        self.external.progressed.connect(lambda job_id, _progress: self.job_changed.emit(job_id))
        self.external.logged.connect(self._on_log)
        self.external.ended.connect(self._on_finished)

    def start(self, job: Job) -> Job:
        """Run ``job`` in a new worker thread (now, or after the jobs started just before it); it waits for its
        mutex there if it must."""
        return self.start_all([job])[0]

    def start_all(self, jobs: list[Job]) -> list[Job]:
        """Start several jobs at once (the workers run simultaneously).

        The jobs table gets its rows, and the window its new counts, once for all of them: once per
        job, four backups fitted the table's columns and the window's sections four times over in
        the pass that starts them (10 ms of the window's thread).
        """
        for job in jobs:
            self._add(job)
        self.jobs_added.emit(jobs)
        self._emit_counts()
        return jobs

    def _add(self, job: Job) -> None:
        worker = JobWorker(job, self, isolated=self.isolated)
        worker.state_changed.connect(self._on_state)
        worker.progressed.connect(lambda job_id, _progress: self.job_changed.emit(job_id))
        worker.logged.connect(self._on_log)
        worker.finished.connect(lambda: self._on_finished(job.id))
        self.jobs[job.id] = job
        self._workers[job.id] = worker
        self.job_added.emit(job)
        self._waiting_to_start.append(worker)
        if not self._stagger.isActive():
            self._start_next()

    def _start_next(self) -> None:
        """Start the next worker; jobs started together start ``STAGGER_MS`` apart (see the constant)."""
        if self._waiting_to_start:
            self._waiting_to_start.pop(0).start()
            self._stagger.start()

    def _adopt(self, job: Job) -> None:
        self.jobs[job.id] = job
        self._external.add(job.id)
        self.job_added.emit(job)
        self.jobs_added.emit([job])
        self._emit_counts()

    def cancel(self, job_id: str) -> None:
        worker = self._workers.get(job_id)
        if worker is not None:
            worker.cancel()
            self.job_changed.emit(job_id)
        elif job_id in self._external:
            self.jobs[job_id].cancel()
            self.job_changed.emit(job_id)

    def cancel_all(self) -> None:
        for job_id in [*self._workers, *self._external]:
            self.cancel(job_id)

    def active(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.state in ACTIVE]

    def counts(self) -> tuple[int, int]:
        """(running, waiting): queued jobs count as waiting."""
        active = self.active()
        running = sum(1 for job in active if job.state == JobState.RUNNING)
        return running, len(active) - running

    # -- from the workers (queued into the GUI thread) -------------------------------------

    def _on_state(self, job_id: str, _state: str) -> None:
        self.job_changed.emit(job_id)
        self._emit_counts()

    def _on_log(self, job_id: str, line: str) -> None:
        self.job_logged.emit(job_id, line)

    def _on_finished(self, job_id: str) -> None:
        worker = self._workers.pop(job_id, None)
        if worker is not None:
            worker.deleteLater()  # its thread has ended (QThread.finished)
        elif job_id in self._external:
            self._external.discard(job_id)
        else:
            return  # already seen ended
        job = self.jobs[job_id]
        self.job_changed.emit(job_id)
        self.job_finished.emit(job)
        self._emit_counts()
        if not self.busy:
            self.all_finished.emit()

    def _emit_counts(self) -> None:
        self.counts_changed.emit(*self.counts())

    @property
    def busy(self) -> bool:
        return bool(self._workers or self._external)
