"""``strongroom plan add|list|edit|remove|run|enable|disable``: saved, scheduled backups."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from ..agent.presence import read_presence
from ..engine import Engine
from ..jobs import JobState
from ..paths import StrongroomPaths
from ..plans.plan import DEFAULT_HOOK_TIMEOUT, Hook, Plan
from ..plans.overview import plan_overviews
from ..plans.plan_book import PlanBook, Trigger, parse_time
from ..plans.plan_run import PlanRunner
from ..plans.schedule import describe, zone_named
from ..retention.policy import RetentionPolicy
from .backup import print_outcome
from .prune import add_retention_options, retention_from
from .usage import count, level, positive_seconds, size


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("plan", help="saved backups that run on a schedule",
                                 description="Plans: saved backups of one or more stores, run by 'strongroom agent' "
                                             "(or the console) when their schedule says.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", help="save a new plan",
                             description="Save a plan. SCHEDULE is cron (minute hour day month weekday, e.g. "
                                         "'30 2 * * *'), or hourly, 'daily HH:MM', 'weekly mon,thu HH:MM'.")
    add.add_argument("name", metavar="NAME")
    _plan_options(add, new=True)
    add.set_defaults(handler=add_plan)
    edit = actions.add_parser("edit", help="change a plan (only what is given changes)")
    edit.add_argument("name", metavar="NAME")
    _plan_options(edit, new=False)
    edit.set_defaults(handler=edit_plan)
    listing = actions.add_parser("list", help="the plans, with their last and next runs")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_plans)
    for action, text in (("remove", "forget a plan (its sets and history stay)"), ("run", "run a plan now, here"),
                         ("enable", "let a plan run on its schedule"), ("disable", "keep a plan, but do not run it")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("name", metavar="NAME")
        if action == "run":
            sub.add_argument("--json", action="store_true", help="print one JSON object per job")
        sub.set_defaults(handler={"remove": remove_plan, "run": run_plan, "enable": enable_plan,
                                  "disable": disable_plan}[action])


def _plan_options(parser: argparse.ArgumentParser, *, new: bool) -> None:
    parser.add_argument("--store", action="append", dest="stores", metavar="S", required=new,
                        help="a store to back up (give it again for more)" + ("" if new else "; replaces the list"))
    parser.add_argument("--schedule", required=new, metavar="CRON", help="when it runs")
    parser.add_argument("--timezone", metavar="ZONE", help="the schedule's time zone (default: the machine's)")
    parser.add_argument("--target", metavar="DIR", help="where its sets go (default: the settings' target)")
    parser.add_argument("--full-every", type=count, metavar="N", help="a full set every Nth run of a store (default 7; "
                                                                      "1: always full)")
    parser.add_argument("--max-chain", type=count, metavar="N", help="also a full set once a chain has N incrementals")
    parser.add_argument("--level", type=level, metavar="N", help="zstd level 1-22 (default: the settings')")
    parser.add_argument("--no-verify", action="store_const", const=False, dest="verify",
                        help="do not read sets back after writing them")
    parser.add_argument("--exclude", action="append", dest="excludes", metavar="PATTERN",
                        help="leave out what matches this gitignore-style pattern (give it again for more)")
    parser.add_argument("--exclude-caches", action="store_const", const=True,
                        help="leave out folders holding a CACHEDIR.TAG")
    parser.add_argument("--max-size", type=size, metavar="SIZE", help="leave out files larger than SIZE (e.g. 2G)")
    parser.add_argument("--before", action="append", metavar="COMMAND", help="run COMMAND first; if it fails, the "
                                                                             "backup does not run")
    parser.add_argument("--before-optional", action="append", metavar="COMMAND",
                        help="run COMMAND first; if it fails, say so and back up anyway")
    parser.add_argument("--after", action="append", metavar="COMMAND",
                        help="run COMMAND after the backup, whatever its result (in STRONGROOM_RESULT)")
    parser.add_argument("--command-timeout", type=positive_seconds, metavar="S",
                        help=f"seconds each command may take (default {DEFAULT_HOOK_TIMEOUT:g})")
    add_retention_options(parser)
    parser.add_argument("--warn-after", metavar="DURATION", help="'status' warns when a store's last good backup "
                                                                 "is older (e.g. 36H)")
    parser.add_argument("--critical-after", metavar="DURATION", help="... and says critical past this (e.g. 3d)")
    if not new:
        parser.add_argument("--no-retention", action="store_true", help="no policy: keep every set the plan made")
        parser.add_argument("--verify", action="store_const", const=True, dest="verify", help="verify sets again")
        parser.add_argument("--no-excludes", action="store_true", help="drop every exclude pattern, CACHEDIR.TAG "
                                                                       "and size rule")
        parser.add_argument("--no-commands", action="store_true", help="drop every before and after command")
        parser.add_argument("--no-max-chain", action="store_true", help="no chain limit")


def _changes(args: argparse.Namespace, plan: Plan | None) -> dict:
    """The plan fields the command line sets."""
    changes: dict = {}
    if args.stores:
        changes["stores"] = tuple(args.stores)
    for name in ("schedule", "timezone", "full_every", "warn_after", "critical_after", "max_chain", "level", "verify", "exclude_caches"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.target:
        changes["target"] = str(Path(args.target).expanduser().absolute())
    if getattr(args, "no_max_chain", False):
        changes["max_chain"] = None
    if getattr(args, "no_excludes", False):
        changes.update(excludes=(), exclude_caches=False, max_file_size=None)
    if args.excludes:
        changes["excludes"] = tuple(args.excludes)
    if args.max_size is not None:
        changes["max_file_size"] = args.max_size
    timeout = args.command_timeout
    if getattr(args, "no_commands", False):
        changes.update(before=(), after=())
    if args.before or args.before_optional:
        changes["before"] = tuple(Hook(command, timeout or DEFAULT_HOOK_TIMEOUT) for command in args.before or ()) \
            + tuple(Hook(command, timeout or DEFAULT_HOOK_TIMEOUT, True) for command in args.before_optional or ())
    if args.after:
        changes["after"] = tuple(Hook(command, timeout or DEFAULT_HOOK_TIMEOUT) for command in args.after)
    retention = retention_from(args)
    if getattr(args, "no_retention", False):
        changes["retention"] = RetentionPolicy()
    elif retention:
        changes["retention"] = plan.retention.overridden(retention) if plan is not None else retention
    if timeout is not None and plan is not None:
        for kind in ("before", "after"):
            if kind not in changes:
                changes[kind] = tuple(replace(hook, timeout=timeout) for hook in getattr(plan, kind))
    return changes


def add_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    book = PlanBook(Engine(paths).catalog)
    changes = _changes(args, None)
    plan = book.add(Plan(name=args.name, **changes))
    print(f"added plan {plan.name!r}: {', '.join(plan.stores)}, {describe(plan.schedule)}; next run "
          f"{_when(plan.schedule_in_zone.next_after(datetime.now(timezone.utc)), plan)}")
    _say_who_runs(paths)
    return 0


def edit_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    book = PlanBook(Engine(paths).catalog)
    plan = book.get(args.name)
    changed = book.replace(replace(plan, **_changes(args, plan)))
    print(f"changed plan {changed.name!r}: {', '.join(changed.stores)}, {describe(changed.schedule)}")
    return 0


def remove_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    plan = PlanBook(Engine(paths).catalog).remove(args.name)
    print(f"removed plan {plan.name!r}; its sets and job history are kept")
    return 0


def enable_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    PlanBook(Engine(paths).catalog).set_enabled(args.name, True)
    print(f"plan {args.name!r} runs on its schedule again, from now on")
    return 0


def disable_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    PlanBook(Engine(paths).catalog).set_enabled(args.name, False)
    print(f"plan {args.name!r} is kept but does not run until 'strongroom plan enable {args.name}'")
    return 0


def run_plan(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    book = PlanBook(engine.catalog)
    plan = book.get(args.name)
    outcome = PlanRunner(engine, book, plan, Trigger.MANUAL, log=lambda line: print(line, file=sys.stderr)).run()
    for problem in outcome.problems:
        print(f"strongroom: {problem}", file=sys.stderr)
    status = print_outcome(outcome.jobs, args.json)
    return 1 if outcome.problems or outcome.state not in (JobState.SUCCEEDED, JobState.WARNINGS) else status


def list_plans(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    book = PlanBook(Engine(paths).catalog)
    overviews, problems = plan_overviews(book, datetime.now(timezone.utc))
    rows = [overview.document() for overview in overviews] + [{"problem": problem} for problem in problems]
    presence = read_presence(paths.data_dir)
    if args.json:
        print(json.dumps({"agent": presence.__dict__ | {"state": presence.state.value} if presence else None,
                          "plans": rows}, indent=2, default=str))
        return 0
    if not rows:
        print("no plans yet: add one with 'strongroom plan add NAME --store S --schedule \"daily 02:30\"'")
    for row in rows:
        if "problem" in row:
            print(f"damaged: {row['problem']}")
            continue
        last = row["last_run"]
        last_text = (f"last {last['started']} {last['result'] or 'running'} ({last['trigger']})" if last
                     else "never run")
        if not row["enabled"]:
            next_text = "disabled"
        elif row["running"]:
            next_text = "running now"
        else:
            at = parse_time(row["next_run"]).astimezone(zone_named(row["timezone"]) if row["timezone"] else None) \
                .strftime("%Y-%m-%d %H:%M %Z")
            next_text = f"overdue since {at}" if row["overdue"] else f"next {at}"
        print(f"{row['name']}  [{', '.join(row['stores'])}]  {row['schedule_text']}  — {next_text}; {last_text}")
    _say_who_runs(paths)
    return 0


def _when(moment: datetime, plan: Plan | None) -> str:
    zone = plan.schedule_in_zone.zone if plan else None
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _say_who_runs(paths: StrongroomPaths) -> None:
    presence = read_presence(paths.data_dir)
    if presence is not None and presence.running:
        print(presence.describe())
    else:
        print("no agent runs: plans run while 'strongroom agent' (or the console) is running — see the README "
              "for the systemd service")

