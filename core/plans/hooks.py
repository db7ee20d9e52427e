"""Commands a plan runs before and after its backup (stop a service, flush a cache, mount a disk).

Each runs through ``/bin/sh -c`` in a session of its own, with no input, its output going
line by line to the job logs. It gets a timeout and the plan's cancel: either kills its
whole process group (SIGTERM, then SIGKILL five seconds later), so a hung ``mount`` never
holds a plan, or the agent's stop, for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .plan import Hook
from ..units import counted

MAX_LINES = 1000  # of one command's output, in the log
MAX_LINE = 500
_POLL = 0.1
_GRACE = 5.0


@dataclass(frozen=True)
class HookOutcome:
    ok: bool
    message: str  # "exited with 3", "timed out after 10 s", "could not start: ..."


def run_hook(hook: Hook, label: str, env: Mapping[str, str], log: Callable[[str], None],
             cancel: threading.Event) -> HookOutcome:
    """Run one command to its end, its timeout or a cancel; every line of its output goes to ``log``."""
    log(f"{label}: running {hook.command!r} (timeout {hook.timeout:g} s)")
    try:
        process = subprocess.Popen(["/bin/sh", "-c", hook.command], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **env})
    except OSError as error:
        return HookOutcome(False, f"could not start ({error.strerror})")
    reader = threading.Thread(target=_relay, args=(process, label, log), name="hook output", daemon=True)
    reader.start()
    deadline = time.monotonic() + hook.timeout
    ended = None
    while ended is None:
        try:
            process.wait(_POLL)
            break
        except subprocess.TimeoutExpired:
            if cancel.is_set():
                ended = "was stopped: the plan was cancelled"
            elif time.monotonic() >= deadline:
                ended = f"timed out after {hook.timeout:g} s and was killed"
    if ended is not None:
        _kill_group(process)
    reader.join(_GRACE)
    if ended is not None:
        return HookOutcome(False, ended)
    if process.returncode != 0:
        how = (f"was killed by signal {-process.returncode}" if process.returncode < 0
               else f"exited with status {process.returncode}")
        return HookOutcome(False, how)
    return HookOutcome(True, "succeeded")


def _relay(process: subprocess.Popen, label: str, log: Callable[[str], None]) -> None:
    lines = 0
    assert process.stdout is not None
    with process.stdout:
        for raw in process.stdout:
            lines += 1
            if lines <= MAX_LINES:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                log(f"{label}| {text[:MAX_LINE]}{'…' if len(text) > MAX_LINE else ''}")
    if lines > MAX_LINES:
        log(f"{label}: {counted(lines - MAX_LINES, 'more line')} of output not kept")


def _kill_group(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, _GRACE), (signal.SIGKILL, _GRACE)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
