"""``strongroom locks``: show, watch, hold and break the store-type mutexes."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

from ..agent.presence import read_presence
from ..mutex.arrivals import clear_dead_waiters
from ..mutex import (BreakRefused, MutexOwner, MutexRecord, MutexRegistry, MutexState, MutexStatus, break_record,
                     mutex_status)
from ..paths import StrongroomPaths
from ..remedies import cli_words, explained, with_words
from ..store_types import check_registered
from ..units import counted, human_span
from .usage import UsageError, count, positive_seconds, seconds

DEFAULT_HOLD_TIMEOUT = 60.0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("locks", help="show who holds and who waits for each store-type mutex",
                                 description="Show who holds and who waits for each store-type mutex.")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument("--watch", action="store_true", help="refresh the status in place until interrupted")
    parser.add_argument("--interval", type=positive_seconds, default=0.5, metavar="S", help="seconds between refreshes (--watch)")
    parser.add_argument("--count", type=count, default=0, metavar="N", help="stop after N refreshes (--watch)")
    parser.set_defaults(handler=show)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    hold = actions.add_parser("with", help="run a command while holding the mutex of a store type",
                              description="Run COMMAND while holding the mutex of TYPE, then exit with its code.")
    hold.add_argument("store_type", metavar="TYPE")
    hold.add_argument("--timeout", type=seconds, default=DEFAULT_HOLD_TIMEOUT, metavar="S",
                      help=f"seconds to wait for the mutex (default {DEFAULT_HOLD_TIMEOUT:g}; 0 = one try)")
    hold.add_argument("--job-id", help="the job id to record (default: cli-PID)")
    hold.add_argument("--store", default="*", help="the store to record (default: * = every store of the type)")
    hold.set_defaults(handler=hold_while_running, takes_child_command=True)
    hold.usage = "strongroom locks with TYPE [--timeout S] [--job-id ID] [--store NAME] -- COMMAND..."


    breaker = actions.add_parser("break", help="clear a stale, unreadable or foreign-host holder record",
                                 description="Clear a stale, unreadable or foreign-host holder record of TYPE's mutex.")
    breaker.add_argument("store_type", metavar="TYPE")
    breaker.add_argument("--force", action="store_true", help="do not ask for confirmation")
    breaker.set_defaults(handler=break_lock)


# -- show ---------------------------------------------------------------------------------------

def show(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    registry = MutexRegistry.for_directory(paths.lock_directory())
    if not args.watch:
        _print_status(registry.status(), as_json=args.json)
        _print_agent(paths, as_json=args.json)
        return 0
    refreshes = 0
    while True:
        if not args.json:
            sys.stdout.write("\x1b[H\x1b[2J")  # home and clear: redraw in place
        _print_status(registry.status(), as_json=args.json)
        _print_agent(paths, as_json=args.json)
        sys.stdout.flush()
        refreshes += 1
        if args.count and refreshes >= args.count:
            return 0
        time.sleep(args.interval)  # a display refresh, not a synchronisation


def _print_status(statuses: list[MutexStatus], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([status.public_dict() for status in statuses], indent=2))
        return
    print(render_status(statuses, now=time.time()))


def _print_agent(paths: StrongroomPaths, *, as_json: bool) -> None:
    """Who runs the plans (text only: the JSON stays a list of mutexes; `plan list --json` has the agent)."""
    if as_json:
        return
    presence = read_presence(paths.data_dir)
    print(f"agent: {presence.describe()}" if presence is not None else "agent: none has run for this home")


def render_status(statuses: list[MutexStatus], *, now: float, fixes: bool = True) -> str:
    """The status as aligned text, one block per mutex; with ``fixes``, what to do about each, where there is
    something (not when the user is doing it already)."""
    width = max((len(status.name) for status in statuses), default=0) + 2
    lines = []
    for status in statuses:
        head = f"{status.name:<{width}}{status.state}"
        if status.holder is not None:
            head += f"  {_describe(status.holder, now)}"
        lines.append(head)
        if status.detail:
            lines.append(f"{'':<{width}}  {with_words(status.detail, status.fix if fixes else None, cli_words)}")
        for position, waiter in enumerate(status.waiters, 1):
            lines.append(f"{'':<{width}}  waiting #{position}: {_describe(waiter, now)}")
    return "\n".join(lines) if lines else "no store-type mutexes known"


def _describe(record: MutexRecord, now: float) -> str:
    since = datetime.fromtimestamp(record.since).strftime("%Y-%m-%d %H:%M:%S")
    return (f"job {record.job_id} · {record.operation} · store {record.store!r} · pid {record.pid} on "
            f"{record.host} · thread {record.thread} · since {since} ({human_span(now - record.since)})")


# -- with -----------------------------------------------------------------------------------------

def hold_while_running(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    check_registered(args.store_type)
    command = args.child_command
    if not command:
        raise UsageError("locks with needs a command after --, e.g.: strongroom locks with folder -- sleep 10")
    registry = MutexRegistry.for_directory(paths.lock_directory())
    owner = MutexOwner(job_id=args.job_id or f"cli-{os.getpid()}", operation="hold", store=args.store)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        hold = registry.acquire(args.store_type, owner, timeout=args.timeout, cancel=stop)
    finally:
        signal.signal(signal.SIGTERM, previous)
    with hold:
        for note in hold.notes:
            print(f"strongroom: warning: {note}", file=sys.stderr)
        return _run_forwarding_signals(command)


def _run_forwarding_signals(command: list[str]) -> int:
    """Run ``command``; SIGINT and SIGTERM go to it, and we wait for it to end."""
    try:
        child = subprocess.Popen(command)
    except OSError as error:
        print(f"strongroom: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
        return 127
    forward = lambda signum, _frame: child.send_signal(signum)  # noqa: E731
    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return code if code >= 0 else 128 - code


# -- break ----------------------------------------------------------------------------------------

def break_lock(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    lockdir = paths.lock_directory()
    status = mutex_status(lockdir, args.store_type)
    print(render_status([status], now=time.time(), fixes=False))
    if status.state is MutexState.FREE:
        cleared = clear_dead_waiters(lockdir, args.store_type)
        more = f"; cleared {counted(cleared, 'record')} of waiters that were not waiting (ended, or forged)" if cleared else ""
        print(f"{status.name} is free; nothing to break{more}")
        return 0
    if status.state is MutexState.HELD and not status.foreign:
        print(f"strongroom: {status.name} is held by a live process on this host; stop that job instead",
              file=sys.stderr)
        return 1
    if not args.force and not _confirm(
        f"Breaking removes this holder record so that other jobs may take {status.name}. If its owner is in "
        "fact still working, two jobs may then change stores of this type at once. Break it? [y/N] "
    ):
        print("not broken")
        return 1
    try:
        print(break_record(lockdir, args.store_type, expected=status.holder))
    except BreakRefused as error:
        print(f"strongroom: {explained(error, cli_words)}", file=sys.stderr)
        return 1
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        print()
        return False
    return answer.strip().lower() in {"y", "yes"}
