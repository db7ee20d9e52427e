"""``strongroom status``: each store's health, with an exit code monitoring tools understand."""

from __future__ import annotations

import argparse
import json

from ..catalog import Catalog
from ..health import Health, store_health
from ..paths import StrongroomPaths
from ..units import counted, human_bytes, human_span, human_time


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status", help="each store's last good backup, last failure and next run; exit 0/1/2",
        description="Each store's health: its last good backup (time, age, set), its last failure, its next "
                    "scheduled run, its sets and their space. Exit 0: every store fresh; 1: a last good backup "
                    "is older than its warning age; 2: older than its critical age, never made, or the last "
                    "backup failed. Ages: 'store health NAME', or a plan's --warn-after/--critical-after.")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=status)


def status(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    rows = store_health(Catalog(paths.catalog))
    worst = max((row.health for row in rows), default=Health.FRESH)
    if args.json:
        print(json.dumps({"health": worst.label, "stores": [row.document() for row in rows]}, indent=2))
        return int(worst)
    if not rows:
        print("no stores yet")
    for row in rows:
        good = (f"last good {human_time(row.last_good.created)} ({human_span(row.age.total_seconds())} ago, "
                f"{row.last_good.id})" if row.last_good else "no good backup")
        upcoming = f"next {human_time(row.next_run[1].isoformat())} ({row.next_run[0]})" if row.next_run \
            else "not scheduled"
        print(f"{row.health.label.upper():<8}  {row.store}: {row.why}")
        print(f"          {good}; {upcoming}; {counted(row.sets, 'set')}, {human_bytes(row.stored_bytes)}")
        if row.last_failure is not None:
            print(f"          last failure {human_time(row.last_failure.finished)}: {row.last_failure.error}")
    return int(worst)
