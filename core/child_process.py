"""Fresh Strongroom interpreters for work that must not share the caller's interpreter or fork it.

Jobs in the console and a folder backup's count run in child processes: in the caller's
process they would take turns with it on one interpreter lock, and a fork of a process with
threads copies whatever the other threads were half-way through (a forked child once crashed
in its first garbage collection). A child here is a new interpreter started from
``sys.executable`` — or, in the bundle, the bundle's program, whose entry calls
``run_if_child`` first. Unlike multiprocessing's spawn it never runs the caller's main script
again. It inherits one socket (Python opens every other file non-inheritable, so no mutex's
flock stays open in it) and gets its work as the first message on it.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection

CHILD_FLAG = "--strongroom-child"
# The child lowers its priority before it imports anything: four job processes starting at the
# console's priority took the window's cores for 50-58 ms while they loaded Strongroom.
_BOOT = ("import os, json, sys; os.nice(int(sys.argv[1])) if sys.argv[1] != '0' else None; "
         "sys.path[:0] = json.loads(sys.argv[2]); "
         "from strongroom.core.child_process import run_child; run_child(sys.argv[3], int(sys.argv[4]))")


class ChildError(Exception):
    """No child process could be started here (the caller does the work itself)."""


def start_child(entry: str, work: object, niceness: int = 0) -> tuple[subprocess.Popen, Connection]:
    """Start ``entry`` ("module:function", called with a Connection and ``work``) in a new interpreter.

    ``niceness`` lowers the child's priority by that much (Unix nice) from its first instruction on.
    """
    ours, theirs = socket.socketpair()
    descriptor = theirs.fileno()
    if getattr(sys, "frozen", False):
        command = [sys.executable, CHILD_FLAG, str(niceness), entry, str(descriptor)]
    else:
        command = [sys.executable, "-c", _BOOT, str(niceness), json.dumps([path for path in sys.path if path]),
                   entry, str(descriptor)]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, pass_fds=(descriptor,), close_fds=True)
    except (OSError, ValueError) as error:
        ours.close()
        raise ChildError(f"a Strongroom process could not be started ({error})") from error
    finally:
        theirs.close()
    connection = Connection(ours.detach())
    try:
        connection.send(work)
    except (OSError, ValueError) as error:
        connection.close()
        process.kill()
        process.wait(10)
        raise ChildError(f"a Strongroom process ended as it started ({error})") from error
    return process, connection


def run_child(entry: str, descriptor: int) -> None:
    """In the child: call ``entry`` with the connection to the parent, whose first message is the work."""
    module, function = entry.split(":")
    target = getattr(importlib.import_module(module), function)
    connection = Connection(descriptor)
    try:
        target(connection, connection.recv())
    except EOFError:
        pass  # the parent went away before sending the work
    finally:
        connection.close()


def run_if_child() -> None:
    """The bundle's entry calls this before it imports its program: when started as a child, do the
    child's work and exit."""
    if len(sys.argv) == 5 and sys.argv[1] == CHILD_FLAG:
        _lower_priority(int(sys.argv[2]))
        run_child(sys.argv[3], int(sys.argv[4]))
        sys.exit(0)


def _lower_priority(niceness: int) -> None:
    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):
            pass  # a sandbox may refuse; the child then runs at its parent's priority
