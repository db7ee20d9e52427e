"""``strongroom jobs``: the history of jobs, newest first."""

from __future__ import annotations

import argparse
import json

from ..catalog import Catalog
from ..paths import StrongroomPaths
from ..units import counted, human_bytes
from .usage import count


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("jobs", help="show the job history", description="Show past and running jobs.")
    parser.add_argument("--limit", type=count, default=50, metavar="N", help="at most N jobs (default 50)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--log", metavar="JOB_ID", help="print one job's log (its last 2000 lines)")
    parser.set_defaults(handler=list_jobs)


def list_jobs(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    catalog = Catalog(paths.catalog)
    if args.log:
        record = catalog.get_job(args.log)
        print("\n".join(record.log) if record.log else f"job {record.id} has no log lines")
        return 0
    records = catalog.list_jobs(args.limit)
    if args.json:
        print(json.dumps([record.public_dict() for record in records], indent=2))
        return 0
    if not records:
        print("no jobs yet")
        return 0
    for record in records:
        outcome = record.error or (f"set {record.set_id}" if record.set_id else "")
        print(f"{record.id}  {record.store}  {record.state:<23}  {record.created}  {counted(record.files, 'file')}  "
              f"{human_bytes(record.bytes)}  {outcome}")
        for warning in record.warnings:
            print(f"    warning: {warning}")
    return 0
