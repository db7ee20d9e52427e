"""Owner records: who holds or waits for a mutex, as small JSON files.

A record is written atomically (temporary file, then ``os.replace``) so a reader sees a
whole record or none. Readers never trust what they find: the lock directory may be
shared by several administrators and may hold truncated, non-JSON, huge or wrongly
typed files, links or FIFOs. ``read_record`` turns all of those into a
``MalformedRecord`` error that names the file, never anything else.

filelock's own ``OwnerRecord`` describes its soft-lock markers (pid, host, token) and
its native locks keep no owner record at all; a backup console needs more -- the job,
operation, store and thread -- so Strongroom writes its own record beside the lock.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..identity import Liveness, liveness

RECORD_FORMAT = 1
MAX_RECORD_BYTES = 16 * 1024
MAX_TEXT = 256

_encode = json.JSONEncoder(separators=(",", ":")).encode

OPERATIONS = ("backup", "restore", "verify", "hold", "prune")


class MalformedRecord(ValueError):
    """A record file that cannot be read as an owner record."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"unreadable owner record {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class MutexRecord:
    """One holder or waiter of a store-type mutex.

    ``since`` is when it started holding (holder) or waiting (waiter), ``heartbeat``
    when its process last confirmed it, both as Unix times. ``ticket`` orders waiters
    by arrival.
    """

    store_type: str
    job_id: str
    operation: str
    store: str
    host: str
    pid: int
    process_start: str | None
    pid_namespace: str | None
    thread: str
    thread_id: int
    since: float
    heartbeat: float
    ticket: int = 0

    def to_bytes(self) -> bytes:
        return _encode({"format": RECORD_FORMAT, **self.__dict__}).encode()

    def beating(self, now: float) -> MutexRecord:
        """The same record with a fresh heartbeat."""
        return replace(self, heartbeat=now)

    def liveness(self) -> Liveness:
        """Whether the recorded process is alive, provably dead, or unknowable from here."""
        return liveness(self.host, self.pid, self.process_start, self.pid_namespace)

    def same_owner(self, other: MutexRecord) -> bool:
        """Whether ``other`` was written by the same hold or wait (heartbeats aside)."""
        return replace(other, heartbeat=self.heartbeat) == self

    def describe(self) -> str:
        """One line naming the owner: job, operation, store, pid, host, thread, since."""
        return (
            f"job {self.job_id} ({self.operation} of store {self.store!r}), pid {self.pid} "
            f"on {self.host}, thread {self.thread}, since {format_time(self.since)}"
        )

    def public_dict(self) -> dict[str, object]:
        """The shape `strongroom locks --json` prints for a holder or waiter."""
        return {
            "job_id": self.job_id,
            "operation": self.operation,
            "store": self.store,
            "host": self.host,
            "pid": self.pid,
            "thread": self.thread,
            "since": format_time(self.since),
        }


def format_time(timestamp: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")


def _text(data: dict, key: str, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise ValueError(f"field {key!r} must be a non-empty string of at most {MAX_TEXT} characters")
    return value


def _integer(data: dict, key: str, low: int, high: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"field {key!r} must be an integer from {low} to {high}")
    return value


def _instant(data: dict, key: str) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"field {key!r} must be a non-negative finite number")
    return float(value)


def parse_record(raw: bytes) -> MutexRecord:
    """Decode and validate a record; ValueError says what is wrong."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON ({error.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    if data.get("format") != RECORD_FORMAT:
        raise ValueError(f"unknown record format {data.get('format')!r}")
    return MutexRecord(
        store_type=_text(data, "store_type"),
        job_id=_text(data, "job_id"),
        operation=_text(data, "operation"),
        store=_text(data, "store"),
        host=_text(data, "host"),
        pid=_integer(data, "pid", 1, 2**31 - 1),
        process_start=_text(data, "process_start", optional=True),
        pid_namespace=_text(data, "pid_namespace", optional=True),
        thread=_text(data, "thread"),
        thread_id=_integer(data, "thread_id", 0, 2**64),
        since=_instant(data, "since"),
        heartbeat=_instant(data, "heartbeat"),
        ticket=_integer(data, "ticket", 0, 2**63),
    )


def read_record(path: Path | str) -> MutexRecord | None:
    """The record at ``path``; None if there is none; MalformedRecord if it is garbage."""
    raw = read_bounded(path)
    if raw is None:
        return None
    try:
        return parse_record(raw)
    except ValueError as error:
        raise MalformedRecord(path, str(error)) from None


def read_bounded(path: Path | str, limit: int = MAX_RECORD_BYTES) -> bytes | None:
    """The bytes of the small file at ``path``; None if there is none; MalformedRecord if it is not one.

    Opens without following links and without blocking on a FIFO, and reads at most
    ``limit`` + 1 bytes, so a hostile file cannot hang or flood the reader.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise MalformedRecord(path, f"cannot open it ({error.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MalformedRecord(path, "not a regular file")
        raw = os.read(fd, limit + 1)
    except OSError as error:
        raise MalformedRecord(path, f"cannot read it ({error.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise MalformedRecord(path, f"larger than {limit} bytes")
    return raw


def write_record(path: Path | str, record: MutexRecord, mode: int) -> None:
    write_atomically(path, record.to_bytes(), mode)


def write_atomically(path: Path | str, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, then replace.

    No fsync: records describe live processes, and after a crash of the machine the
    boot id in them shows them as dead anyway.
    """
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".tmp-{name}-{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        try:
            if mode & 0o077 and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # the umask must not narrow a shared (machine-scope) record
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class NotARecordFile(OSError):
    """Something that is not a file stands where a record belongs (a folder someone made there)."""


def remove_record(path: Path | str) -> None:
    """Remove a record file if it is there; NotARecordFile for a folder, which is never removed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError) as error:
        if os.path.isdir(path) and not os.path.islink(path):
            raise NotARecordFile(error.errno, "a folder, not a record: Strongroom does not remove it",
                                 str(path)) from None
        raise
