"""``strongroom store add|list|remove``: the stores Strongroom backs up."""

from __future__ import annotations

import argparse
import json

from ..engine import Engine
from ..paths import StrongroomPaths
from ..stores import StoreError, driver_names, shown_location
from .backup import add_exclude_options, exclude_rules
from ..retention.policy import parse_interval
from .prune import add_retention_options, retention_from
from ..units import counted


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("store", help="add, list or remove stores", description="Add, list or remove stores.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", help="register a store after checking its path",
                             description="Register a store after checking that PATH is a store of TYPE.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--type", required=True, choices=driver_names(), dest="store_type")
    add.add_argument("path", metavar="PATH")
    add_exclude_options(add)
    add.set_defaults(handler=add_store)
    rules = actions.add_parser("exclude", help="set what backups of a folder store leave out",
                               description="Replace a folder store's exclude rules (none given: show them).")
    rules.add_argument("name", metavar="NAME")
    add_exclude_options(rules)
    rules.add_argument("--none", action="store_true", help="leave nothing out")
    rules.set_defaults(handler=set_excludes)
    keep = actions.add_parser("retention", help="set which sets made by hand 'prune' keeps",
                              description="Replace the retention policy of a store's sets made by hand (sets a plan "
                                          "made follow the plan's policy). None given: show it.")
    keep.add_argument("name", metavar="NAME")
    add_retention_options(keep)
    keep.add_argument("--none", action="store_true", help="no policy: prune keeps every set made by hand")
    keep.set_defaults(handler=set_retention)
    ages = actions.add_parser("health", help="set when 'status' warns about a store",
                              description="Set the ages of a store's last good backup past which 'status' says "
                                          "warning (exit 1) and critical (exit 2). None given: show them.")
    ages.add_argument("name", metavar="NAME")
    ages.add_argument("--warn-after", metavar="DURATION", help="e.g. 36H, 2d")
    ages.add_argument("--critical-after", metavar="DURATION", help="e.g. 7d")
    ages.set_defaults(handler=set_ages)
    listing = actions.add_parser("list", help="list the stores")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_stores)
    remove = actions.add_parser("remove", help="forget a store (its backup sets are kept)")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=remove_store)


def add_store(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    rules = exclude_rules(args)  # checked before the store is added
    store = engine.add_store(args.name, args.store_type, args.path)
    if rules:
        try:
            engine.set_store_excludes(store.name, rules)
        except StoreError:
            engine.catalog.remove_store(store.name)
            raise
    print(f"added {store.type} store {store.name!r} at {shown_location(store.type, store.path)}"
          + (f"; it leaves out {rules.describe()}" if rules else ""))
    return 0


def set_ages(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    warn, critical = engine.catalog.store_ages(args.name)
    engine.store(args.name)
    if args.warn_after is None and args.critical_after is None:
        print(f"store {args.name!r}: warn after {warn or 'the plans’ or the default age'}, critical after "
              f"{critical or 'the plans’ or the default age'}")
        return 0
    for value in (args.warn_after, args.critical_after):
        if value is not None:
            parse_interval(value)
    warn, critical = args.warn_after or warn, args.critical_after or critical
    engine.catalog.set_store_ages(args.name, warn, critical)
    print(f"store {args.name!r}: warn after {warn or 'the default'}, critical after {critical or 'the default'}")
    return 0


def set_retention(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    policy = retention_from(args)
    engine.store(args.name)
    if not policy and not args.none:
        print(f"store {args.name!r}: {engine.store_retention(args.name).describe()}")
        return 0
    engine.set_store_retention(args.name, policy)
    print(f"store {args.name!r}: {policy.describe()} (sets made by hand; 'strongroom prune' applies it)")
    return 0


def set_excludes(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    rules = exclude_rules(args)
    if not rules and not args.none:
        print(f"store {args.name!r} leaves out {engine.store_excludes(args.name).describe()}")
        return 0
    engine.set_store_excludes(args.name, rules)
    print(f"store {args.name!r} now leaves out {rules.describe()}")
    return 0


def list_stores(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    stores = engine.catalog.list_stores()
    sets = engine.catalog.list_sets()
    if args.json:
        rows = []
        for store in stores:
            own = [record for record in sets if record.store == store.name]
            rows.append({**store.public_dict(), "sets": len(own), "last_backup": own[-1].created if own else None,
                         "excludes": engine.store_excludes(store.name).document()})
        print(json.dumps(rows, indent=2))
        return 0
    if not stores:
        print(f"no stores yet: add one with 'strongroom store add NAME --type {'|'.join(driver_names())} PATH'")
        return 0
    width = max(len(store.name) for store in stores)
    for store in stores:
        own = [record for record in sets if record.store == store.name]
        last = f"last backup {own[-1].created} ({own[-1].kind})" if own else "never backed up"
        print(f"{store.name:<{width}}  {store.type:<10}  {shown_location(store.type, store.path)}  — {last}")
    return 0


def remove_store(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    store = engine.catalog.remove_store(args.name)
    kept = len(engine.catalog.list_sets(store.name))
    print(f"removed store {store.name!r}; its {counted(kept, 'backup set')} {'is' if kept == 1 else 'are'} kept and can still be restored with --to")
    return 0
