"""``strongroom backup NAME...``: back up stores, one job per store, all at the same time."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..engine import Engine
from ..jobs import Job, JobState, run_simultaneously
from ..jobs.job import DEFAULT_MUTEX_TIMEOUT
from ..paths import StrongroomPaths
from ..units import counted, human_bytes
from .progress_display import ProgressDisplay
from ..stores.excludes import ExcludeRules, tally_summary
from ..remedies import cli_words, with_words
from .usage import UsageError, count, level, seconds, size


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "backup", help="back up one or more stores (simultaneously)",
        description="Back up each NAME in its own job, all at the same time; jobs on stores of the same type take "
                    "turns on that type's mutex. Exit 0 when every job succeeded (warnings allowed), 1 otherwise.")
    parser.add_argument("names", nargs="+", metavar="NAME")
    parser.add_argument("--incremental", action="store_true", help="store only what changed since the last set")
    parser.add_argument("--target", metavar="DIR", help="where to write the sets (default: the data folder)")
    parser.add_argument("--no-verify", action="store_true", help="do not read the set back after writing it")
    parser.add_argument("--level", type=level, metavar="N",
                        help="zstd compression level 1-22 (default: the settings', else 3)")
    parser.add_argument("--threads", type=count, default=0, metavar="N", help="compression threads (default: one per CPU)")
    parser.add_argument("--wait", type=seconds, default=DEFAULT_MUTEX_TIMEOUT, metavar="S",
                        help=f"seconds a job may wait for its mutex (default {DEFAULT_MUTEX_TIMEOUT:g})")
    parser.add_argument("--json", action="store_true", help="print one JSON object per job")
    add_exclude_options(parser, "besides the store's own rules: ")
    parser.add_argument("--dry-run", action="store_true",
                        help="list what would be stored and what would be left out (by rule); write nothing")
    parser.set_defaults(handler=backup)


def add_exclude_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument("--exclude", action="append", dest="excludes", default=[], metavar="PATTERN",
                        help=prefix + "leave out what matches this gitignore-style pattern (give it again for more)")
    parser.add_argument("--exclude-caches", action="store_true", help="leave out the contents of folders holding a "
                                                                      "CACHEDIR.TAG (the folder and tag are kept)")
    parser.add_argument("--max-size", type=size, metavar="SIZE", help="leave out files larger than SIZE (e.g. 2G)")


def exclude_rules(args: argparse.Namespace) -> ExcludeRules:
    return ExcludeRules(tuple(args.excludes), args.exclude_caches, args.max_size).checked()


def job_summary(job: Job) -> dict:
    return {"job_id": job.id, "store": job.store_name, "state": job.state.value, "set_id": job.set_id,
            "files": job.progress.files_done, "bytes": job.progress.bytes_done, "warnings": list(job.warnings),
            "excluded": {rule: {"items": items, "bytes": size} for rule, (items, size) in job.excluded.items()},
            "error": job_error(job)}


def job_error(job: Job) -> str | None:
    """A failed job's message, with its fix in command-line terms."""
    return with_words(job.error, job.fix, cli_words) if job.error else job.error


def print_outcome(jobs: list[Job], as_json: bool) -> int:
    if as_json:
        print(json.dumps([job_summary(job) for job in jobs], indent=2))
    else:
        for job in jobs:
            detail = job_error(job) or (f"set {job.set_id}, {counted(job.progress.files_done, 'file')}, "
                                   f"{human_bytes(job.progress.bytes_done)}" if job.set_id else "")
            print(f"{job.store_name}: {job.state.label}" + (f" — {detail}" if detail else ""))
            if job.excluded:
                print(f"  left out: {tally_summary(job.excluded)}")
            for warning in job.warnings:
                print(f"  warning: {warning}")
    failed = any(job.state not in (JobState.SUCCEEDED, JobState.WARNINGS) for job in jobs)
    return 1 if failed else 0


def backup(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    if len(set(args.names)) != len(args.names):
        raise UsageError("a store is named twice; give each store once")
    engine = Engine(paths)
    if engine.settings_problem:
        print(f"strongroom: warning: {engine.settings_problem}", file=sys.stderr)
    options = engine.default_backup_options(
        incremental=args.incremental, target=Path(args.target).absolute() if args.target else None,
        threads=args.threads, excludes=exclude_rules(args), **({"level": args.level} if args.level is not None else {}),
        **({"verify": False} if args.no_verify else {}))
    stores = [engine.store(name) for name in args.names]  # every name checked before any job starts
    if args.dry_run:
        return _dry_run(engine, stores, options)
    jobs: list[Job] = [engine.backup_job(store.name, options, mutex_timeout=args.wait) for store in stores]
    with ProgressDisplay(jobs):
        run_simultaneously(jobs)
    return print_outcome(jobs, args.json)


def _dry_run(engine: Engine, stores: list, options) -> int:
    from ..archive import display_path
    from ..jobs.dry_run import dry_run

    for store in stores:
        def emit(what: str, path: str, why: str) -> None:
            if what == "warning":
                print(f"{store.name}: warning: {path}" + (f" ({why})" if why else ""))
            else:
                print(f"{what:<9}  {store.name}:{display_path(path)}" + (f"  ({why})" if why else ""))

        counts = dry_run(engine, store.name, options, emit)
        print(f"{store.name}: would store {counted(counts['store'], 'item')}"
              + (f", keep {counts['unchanged']} unchanged from the latest set" if options.incremental else "")
              + f", leave out {counts['exclude']}; nothing was written")
    return 0
