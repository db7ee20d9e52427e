"""Jobs: backup, restore and verify, each with an id, states, progress and cancel."""

from .backup import BackupJob, BackupOptions
from .job import DEFAULT_MUTEX_TIMEOUT, Job, JobCancelled, JobListener
from .progress import Progress, ProgressMeter
from .restore import RestoreJob
from .runner import run_simultaneously
from ..job_state import TERMINAL, JobState
from .verify import VerifyJob

__all__ = ["DEFAULT_MUTEX_TIMEOUT", "TERMINAL", "BackupJob", "BackupOptions", "Job", "JobCancelled", "JobListener",
           "JobState", "Progress", "ProgressMeter", "RestoreJob", "VerifyJob", "run_simultaneously"]
