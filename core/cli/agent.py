"""``strongroom agent``: run plans when they are due, until stopped (a systemd service, or by hand)."""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime, timezone

from ..agent.agent import DEFAULT_POLL, Agent
from ..agent.presence import read_presence
from ..engine import Engine
from ..paths import StrongroomPaths
from .usage import positive_seconds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "agent", help="run plans on their schedules (a long-running service)",
        description="Run each plan when it is due, through the same mutexes as the console and the CLI. A run "
                    "missed while nothing ran is caught up once at start. SIGTERM or SIGINT cancels running jobs "
                    "cleanly and exits 0. One agent per home.")
    parser.add_argument("--poll", type=positive_seconds, default=DEFAULT_POLL, metavar="S",
                        help=f"seconds between looks at the plans (default {DEFAULT_POLL:g})")
    parser.add_argument("--status", action="store_true", help="say whether an agent runs for this home, and exit")
    parser.set_defaults(handler=agent)


def _log(line: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    print(f"{stamp} {line}", flush=True)


def agent(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    if args.status:
        presence = read_presence(paths.data_dir)
        print(presence.describe() if presence is not None else "no agent has run for this home")
        return 0 if presence is not None and presence.running else 3
    engine = Engine(paths)
    if engine.settings_problem:
        _log(f"warning: {engine.settings_problem}")
    service = Agent(engine, log=_log, poll=args.poll)

    def stop(signum: int, frame: object) -> None:
        _log(f"received {signal.Signals(signum).name}: stopping")
        service.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stdout.flush()
    return 0
