"""``strongroom restore NAME...``: bring back a store's point in time, or part of it; or several stores at
once, each from its newest good set (as of ``--before``), all at the same time."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ..engine import Engine
from ..jobs import RestoreJob, run_simultaneously
from ..jobs.job import DEFAULT_MUTEX_TIMEOUT
from ..paths import StrongroomPaths
from ..restore import OVERWRITE_POLICIES, RestoreOptions
from ..restore.several import options_for, pick_sets
from .backup import print_outcome
from .progress_display import ProgressDisplay
from .usage import UsageError, moment, seconds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "restore", help="restore a store (or some of its paths) from a backup set",
        description="Restore a point in time of store NAME: to where it was, or into another folder (--to), where "
                    "paths land relative to that folder. Existing files are kept unless --overwrite allows. "
                    "Given several stores (or --all), each is restored from its newest set taken by --before "
                    "(default: now) whose verify has not failed, all at the same time; with --to each lands in "
                    "DIR/<store name>.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="the store (or stores); with --untrusted, a set file from elsewhere")
    parser.add_argument("--all", action="store_true", help="every store that has a backup set, removed ones too")
    parser.add_argument("--before", type=moment, metavar="TIME",
                        help="restore each store as it was at TIME: its newest good set taken at or before it "
                             "(e.g. '2026-12-01 23:00', local time)")
    parser.add_argument("--new-databases", action="store_true",
                        help="several stores: load each database store into a new database beside its own, named "
                             "after the set's time (crm_20261201_2300), instead of into its own")
    parser.add_argument("--set", default="latest", metavar="ID", help="the set to restore (default: latest)")
    parser.add_argument("--to", metavar="DIR", help="restore into DIR instead of the store's own location")
    parser.add_argument("--to-database", metavar="NAME",
                        help="a database store: load into database NAME on the store's server instead of its own")
    parser.add_argument("--overwrite", choices=OVERWRITE_POLICIES, default="never",
                        help="what to do with existing files, or an existing database (default: never overwrite; for "
                             "several stores' databases, if-older counts as never)")
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
    if args.all or len(args.names) > 1 or args.before is not None:
        return restore_several(engine, args)
    if len(args.names) != 1:
        raise UsageError("name the store to restore (or several, or give --all)")
    if args.new_databases:
        raise UsageError("--new-databases is for several stores; for one, give --to-database NAME")
    name = args.names[0]
    if args.untrusted and not args.to:
        raise UsageError("a set from elsewhere is restored only into a folder: give --to DIR")
    options = RestoreOptions(to=Path(args.to).absolute() if args.to else None, overwrite=args.overwrite,
                             paths=tuple(args.path), dry_run=args.dry_run, untrusted=args.untrusted,
                             to_database=args.to_database, allow_damaged=args.allow_damaged)
    if args.untrusted:
        job = engine.untrusted_restore_job(Path(name), options, mutex_timeout=args.wait)
    else:
        job = engine.restore_job(name, options, set_id=args.set, mutex_timeout=args.wait)
    with ProgressDisplay([job]):
        job.run()
    if args.dry_run and job.plan is not None and not args.json:
        print_dry_run(job)
    return print_outcome([job], args.json)


def print_dry_run(job: RestoreJob) -> None:
    print(f"dry run: {job.store_name}: set {job.set_id} into {job.plan.root} — nothing was written")
    for line in job.plan.lines():
        print(line)


def restore_several(engine: Engine, args: argparse.Namespace) -> int:
    """Each named store (or all) from its newest good set as of --before, every job at once."""
    for option, given in (("--set", args.set != "latest"), ("--path", args.path), ("--to-database", args.to_database),
                          ("--untrusted", args.untrusted), ("--allow-damaged", args.allow_damaged)):
        if given:
            raise UsageError(f"{option} is for restoring one store by its set; several stores (or --before) take "
                             "each store's newest good set")
    if args.all and args.names:
        raise UsageError("give store names or --all, not both")
    names = restorable_names(engine) if args.all else args.names
    if len(set(names)) != len(names):
        raise UsageError("a store is named twice; give each store once")
    if not names:
        raise UsageError("no store has a backup set yet: nothing to restore")
    stores = [engine.restorable_store(name) for name in names]  # every name checked before any job starts
    folder = Path(args.to).absolute() if args.to else None
    jobs, failed = [], False
    for pick in pick_sets(engine.catalog, stores, args.before):
        if pick.record is None:
            print(f"{pick.store.name}: not restored — {pick.problem}", file=sys.stderr if args.json else sys.stdout)
            failed = True
            continue
        options = replace(options_for(pick, folder=folder, new_databases=args.new_databases,
                                      overwrite=args.overwrite,
                                      database_overwrite="always" if args.overwrite == "always" else "never"),
                          dry_run=args.dry_run)
        job = engine.restore_job(pick.store.name, options, set_id=pick.record.id, mutex_timeout=args.wait)
        if pick.note:
            job.warn(pick.note)
        jobs.append(job)
    with ProgressDisplay(jobs):
        run_simultaneously(jobs)
    if args.dry_run and not args.json:
        for job in jobs:
            if job.plan is not None:
                print_dry_run(job)
    return max(print_outcome(jobs, args.json), int(failed))


def restorable_names(engine: Engine) -> list[str]:
    """Every store with at least one set, registered or removed, by name."""
    return sorted({record.store for record in engine.catalog.list_sets()})
