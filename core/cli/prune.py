"""``strongroom prune`` and ``sets delete``: removing sets by retention policy, or one by one.

The retention flags are shared with ``plan add|edit`` and ``store retention``.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..engine import Engine
from ..paths import StrongroomPaths
from ..retention.policy import RULES, RetentionError, RetentionPolicy
from ..retention.prune import holding_prune_mutex, prune
from ..retention.removal import remove_sets
from ..retention.select import dependents
from ..units import counted, human_bytes, human_time


def _keep_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < -1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 or more sets, or -1 for no limit")
    return value


def add_retention_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("retention (as borg prune: a set kept by one rule does not count for the next)")
    group.add_argument("--keep-within", metavar="DURATION", help="keep every set made within DURATION (36H, 7d, 2w, "
                                                                 "6m, 1y)")
    periods = {"hourly": "hour", "daily": "day", "weekly": "ISO week", "monthly": "month", "yearly": "year"}
    for rule in RULES:
        what = "newest sets" if rule == "last" else f"{rule} sets (the newest of each {periods[rule]})"
        group.add_argument(f"--keep-{rule}", type=_keep_count, metavar="N", help=f"keep the N {what}")


def retention_from(args: argparse.Namespace) -> RetentionPolicy:
    return RetentionPolicy(keep_within=args.keep_within, **{f"keep_{rule}": getattr(args, f"keep_{rule}")
                                                            for rule in RULES}).checked()


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prune", help="remove sets no retention rule keeps",
        description="Apply retention policies: a plan's to the sets it made, a store's to the sets made by hand. "
                    "Every set is listed as keep or remove, with the rule that keeps it; a set a kept incremental "
                    "stands on, and each store's newest set, are always kept. Flags replace the saved rules for "
                    "this run.")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--plan", metavar="NAME", help="only the sets this plan made")
    scope.add_argument("--store", metavar="NAME", help="only this store's sets")
    add_retention_options(parser)
    parser.add_argument("--dry-run", action="store_true", help="list the decisions; remove nothing")
    parser.add_argument("--json", action="store_true", help="one object per set: id, action, reason, ...")
    parser.set_defaults(handler=prune_command)


def prune_command(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    if args.store:
        engine.store(args.store)
    report = prune(engine, store=args.store, plan=args.plan, overrides=retention_from(args), dry_run=args.dry_run,
                   log=lambda line: print(f"strongroom: {line}", file=sys.stderr))
    for problem in report.problems:
        print(f"strongroom: warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([decision.public_dict() for decision in report.all_decisions], indent=2))
        return 0
    for store, decisions in report.decisions.items():
        for decision in decisions:
            record = decision.record
            action = "keep  " if decision.keep else ("would remove" if args.dry_run else "remove")
            print(f"{action:<12}  {record.id}  {human_time(record.created)}  {record.kind:<11}  "
                  f"{human_bytes(record.stored_bytes):>10}  {decision.reason}")
    removing = [decision for decision in report.all_decisions if not decision.keep]
    if args.dry_run:
        print(f"would remove {counted(len(removing), 'set')}, {human_bytes(sum(d.record.stored_bytes for d in removing))}; "
              "nothing was removed")
    else:
        print(f"removed {counted(report.removed, 'set')}; {human_bytes(report.freed)} freed")
    return 0


def delete_sets(engine: Engine, set_ids: list[str], force: bool) -> int:
    """``sets delete``: refuse a set kept sets stand on, unless ``force`` (which removes them too)."""
    records = [engine.catalog.get_set(set_id) for set_id in set_ids]
    everything = engine.catalog.list_sets()
    doomed = {record.id: record for record in records}
    for record in records:
        below = [child for child in dependents(everything, record.id) if child.id not in doomed]
        if below and not force:
            names = ", ".join(child.id for child in below)
            raise RetentionError(f"set {record.id} is the base of {counted(len(below), 'incremental set')} ({names}), which "
                             "cannot be restored without it: delete them first, or give --force to delete them too")
        for child in below:
            doomed[child.id] = child
            print(f"also deleting {child.id}: it stands on {record.id}")
    with holding_prune_mutex(engine, "sets delete"):
        freed, busy = remove_sets(engine.catalog, list(doomed.values()),
                                  log=lambda line: print(f"strongroom: {line}", file=sys.stderr))
    print(f"deleted {counted(len(doomed) - len(busy), 'set')}; {human_bytes(freed)} freed")
    for record in busy:
        print(f"strongroom: set {record.id} is being read (a restore or verify) and was not deleted: try again "
              "when it has finished", file=sys.stderr)
    return 1 if busy else 0
