"""``strongroom restore NAME``: bring back a store's point in time, or part of it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..engine import Engine
from ..jobs.job import DEFAULT_MUTEX_TIMEOUT
from ..paths import StrongroomPaths
from ..restore import OVERWRITE_POLICIES, RestoreOptions
from .backup import print_outcome
from .progress_display import ProgressDisplay
from .usage import UsageError, seconds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "restore", help="restore a store (or some of its paths) from a backup set",
        description="Restore a point in time of store NAME: to where it was, or into another folder (--to), where "
                    "paths land relative to that folder. Existing files are kept unless --overwrite allows.")
    parser.add_argument("name", metavar="NAME", help="the store; with --untrusted, a set file from elsewhere")
    parser.add_argument("--set", default="latest", metavar="ID", help="the set to restore (default: latest)")
    parser.add_argument("--to", metavar="DIR", help="restore into DIR instead of the store's own location")
    parser.add_argument("--to-database", metavar="NAME",
                        help="a database store: load into database NAME on the store's server instead of its own")
    parser.add_argument("--overwrite", choices=OVERWRITE_POLICIES, default="never",
                        help="what to do with existing files, or an existing database (default: never overwrite)")
    parser.add_argument("--path", action="append", default=[], metavar="P",
                        help="restore only P (relative to the store; repeat for more)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be written where, write nothing")
    parser.add_argument("--wait", type=seconds, default=DEFAULT_MUTEX_TIMEOUT, metavar="S",
                        help=f"seconds to wait for the store type's mutex (default {DEFAULT_MUTEX_TIMEOUT:g})")
    parser.add_argument("--untrusted", action="store_true",
                        help="NAME is a set file this catalog does not know (copied from another machine): restore "
                             "it into --to DIR with no set-id bits, nothing world-writable, owned by you")
    parser.add_argument("--allow-damaged", action="store_true",
                        help="restore the set even though its last verify failed (or that of a set it stands on)")
    parser.add_argument("--json", action="store_true", help="print the job's outcome as JSON")
    parser.set_defaults(handler=restore)


def restore(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    if args.untrusted and not args.to:
        raise UsageError("a set from elsewhere is restored only into a folder: give --to DIR")
    options = RestoreOptions(to=Path(args.to).absolute() if args.to else None, overwrite=args.overwrite,
                             paths=tuple(args.path), dry_run=args.dry_run, untrusted=args.untrusted,
                             to_database=args.to_database, allow_damaged=args.allow_damaged)
    if args.untrusted:
        job = engine.untrusted_restore_job(Path(args.name), options, mutex_timeout=args.wait)
    else:
        job = engine.restore_job(args.name, options, set_id=args.set, mutex_timeout=args.wait)
    with ProgressDisplay([job]):
        job.run()
    if args.dry_run and job.plan is not None and not args.json:
        print(f"dry run: set {job.set_id} into {job.plan.root} — nothing was written")
        for line in job.plan.lines():
            print(line)
    return print_outcome([job], args.json)
