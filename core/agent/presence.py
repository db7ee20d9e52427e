"""One agent per home: a lock only one process can hold, and a record of who holds it.

The lock is a filelock ``FileLock`` (flock on Linux): the kernel lets go of it when its
process dies, however it dies, so a killed agent never blocks the next one. filelock's
native lock keeps no owner, so the agent writes ``agent.json`` beside it — pid, host,
process start, since, and its next due plan, renewed at each tick. Anyone may read it
(the console, ``plan list``, ``locks``): it is read as the mutex records are, bounded and
distrustful, and its owner is judged alive or provably dead by ``identity.liveness``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import filelock

from ..identity import Liveness, liveness, this_process
from ..mutex.records import MalformedRecord, read_bounded, write_atomically

LOCK_NAME = "agent.lock"
RECORD_NAME = "agent.json"
_FORMAT = 1


class AgentRunning(Exception):
    """Another agent already runs the plans of this home."""


@dataclass(frozen=True)
class AgentPresence:
    """What the record says, and whether its process is alive."""

    pid: int
    host: str
    since: str
    next_plan: str | None
    next_at: str | None
    state: Liveness

    @property
    def running(self) -> bool:
        return self.state is Liveness.ALIVE

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.host}, since {self.since}"
        upcoming = f"; next: plan {self.next_plan} at {self.next_at}" if self.next_plan else "; no plan scheduled"
        if self.state is Liveness.ALIVE:
            return f"the agent runs ({where}){upcoming}"
        if self.state is Liveness.FOREIGN:
            return f"an agent on another host or container recorded itself ({where}); it cannot be checked from here"
        return f"no agent runs (the last one, {where}, has ended)"


def read_presence(data_dir: Path) -> AgentPresence | None:
    """The agent of this home as its record tells; None when there has never been one or the record is unusable."""
    try:
        raw = read_bounded(data_dir / RECORD_NAME)
    except MalformedRecord:
        return None
    if raw is None:
        return None
    try:
        values = json.loads(raw)
        pid, host, since = values["pid"], values["host"], values["since"]
        start, next_plan, next_at = values.get("process_start"), values.get("next_plan"), values.get("next_at")
        if type(pid) is not int or pid <= 0 or not all(isinstance(text, str) for text in (host, since)) or not all(
                value is None or isinstance(value, str) for value in (start, next_plan, next_at)):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return AgentPresence(pid, host[:256], since[:64], next_plan and next_plan[:64], next_at and next_at[:64],
                         liveness(host, pid, start, values.get("pid_namespace") if isinstance(
                             values.get("pid_namespace"), str) else None))


class AgentLock:
    """Held for the agent's whole life; ``publish`` renews its record."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = filelock.FileLock(data_dir / LOCK_NAME, timeout=0, mode=0o600)
        self.since = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

    def __enter__(self) -> AgentLock:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=2.0)  # an agent that is just stopping may hold it a moment longer
        except filelock.Timeout:
            presence = read_presence(self.data_dir)
            who = (f"pid {presence.pid} on {presence.host}, running since {presence.since}" if presence is not None
                   else "its record cannot be read")
            raise AgentRunning(f"another agent already runs the plans of {self.data_dir} ({who}); stop it first "
                               "(systemctl stop strongroom-agent, or kill that pid)") from None
        self.publish(None, None)
        return self

    def publish(self, next_plan: str | None, next_at: datetime | None) -> None:
        me = this_process()
        record = {"format": _FORMAT, "pid": me.pid, "host": me.host, "process_start": me.start,
                  "pid_namespace": me.pid_namespace, "since": self.since, "next_plan": next_plan,
                  "next_at": next_at.isoformat(timespec="minutes") if next_at else None}
        try:
            write_atomically(self.data_dir / RECORD_NAME, json.dumps(record).encode(), 0o644)
        except OSError:
            pass  # the record is for others to read; the lock itself is what keeps a second agent out

    def __exit__(self, *exc: object) -> None:
        try:
            os.unlink(self.data_dir / RECORD_NAME)
        except OSError:
            pass
        self._lock.release()
