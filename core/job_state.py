"""The states of a job and the moves between them.

Outside the jobs package, so that the catalog, which keeps each job's state, can name them too.
"""

from __future__ import annotations

from enum import Enum


class JobState(str, Enum):
    QUEUED = "queued"
    WAITING = "waiting"  # for the mutex of its store type
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    WARNINGS = "succeeded-with-warnings"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def label(self) -> str:
        return {JobState.WAITING: "waiting for mutex", JobState.WARNINGS: "succeeded with warnings"}.get(
            self, self.value)


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.WARNINGS, JobState.FAILED, JobState.CANCELLED})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.WAITING, JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.WAITING: frozenset({JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.WAITING, JobState.SUCCEEDED, JobState.WARNINGS, JobState.FAILED,
                                 JobState.CANCELLED}),
}


class BadTransition(RuntimeError):
    """A move the state machine does not allow (a bug in a job, never user input)."""


def check_transition(current: JobState, new: JobState) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise BadTransition(f"a job cannot go from {current.value} to {new.value}")
