"""Who a process is, and whether a recorded process is provably dead.

An owner record names a process by host, pid and a start token. Like BorgBackup's lock
code, Strongroom breaks a record only when its owner is *provably* dead: the record was
written on this host, in this pid namespace, and either the machine has rebooted since
(the boot id differs), the pid no longer exists, or the pid now belongs to a process
that started at another time (the pid was reused). A record from another host, or from
another pid namespace that shares the host name (a container), can never be proven
dead from here and is left alone.
"""

from __future__ import annotations

import enum
import errno
import functools
import os
import socket
import sys
from dataclasses import dataclass


class Liveness(enum.Enum):
    """What can be known about a recorded process from this one."""

    ALIVE = "alive"
    DEAD = "dead"
    FOREIGN = "foreign"  # another host or pid namespace: unknowable from here


@dataclass(frozen=True)
class ProcessIdentity:
    """Host, pid namespace, pid and start token of a process."""

    host: str
    pid: int
    start: str | None  # "<boot id>:<start ticks>" where the OS tells it, else None
    pid_namespace: str | None


@functools.cache
def host_name() -> str:
    """This machine's host name, as recorded in owner records."""
    return socket.gethostname() or "localhost"


@functools.cache
def boot_id() -> str | None:
    """An id that changes at every boot (Linux), or None where the OS has none."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


@functools.cache
def pid_namespace() -> str | None:
    """This process's pid namespace (Linux), so containers sharing a host name are told apart."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def process_start_token(pid: int) -> str | None:
    """A token that differs between two processes that had the same pid, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: count fields after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    if len(fields) < 20:
        return None
    return f"{boot_id() or '-'}:{fields[19].decode('ascii', 'replace')}"


@functools.cache
def _this_process(pid: int) -> ProcessIdentity:
    return ProcessIdentity(host_name(), pid, process_start_token(pid), pid_namespace())


def this_process() -> ProcessIdentity:
    """The identity of the calling process (cached per pid, so a forked child gets its own)."""
    return _this_process(os.getpid())


def _windows_pid_exists(pid: int) -> bool:
    # os.kill(pid, 0) would *terminate* the process on Windows: ask the kernel instead.
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid exists on this host (a permission error means it does)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_exists(pid)
    try:
        os.kill(pid, 0)
    except OSError as error:
        if error.errno == errno.ESRCH:
            return False
        if error.errno == errno.EPERM:
            return True
        raise
    return True


def liveness(host: str, pid: int, start: str | None, namespace: str | None) -> Liveness:
    """Judge a recorded process: ALIVE, provably DEAD, or FOREIGN (cannot tell from here)."""
    me = this_process()
    if host != me.host:
        return Liveness.FOREIGN
    if start and me.start:
        recorded_boot = start.split(":", 1)[0]
        current_boot = me.start.split(":", 1)[0]
        if recorded_boot != "-" and current_boot != "-" and recorded_boot != current_boot:
            return Liveness.DEAD  # this machine has rebooted since the record was written
    if namespace and me.pid_namespace and namespace != me.pid_namespace:
        return Liveness.FOREIGN
    if not pid_exists(pid):
        return Liveness.DEAD
    if start:
        current = process_start_token(pid)
        if current is not None and current != start:
            return Liveness.DEAD  # the pid was reused by a newer process
    return Liveness.ALIVE
