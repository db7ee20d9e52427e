"""``strongroom store add|list|remove``: the stores Strongroom backs up."""

from __future__ import annotations

import argparse
import json

from ..engine import Engine
from ..paths import StrongroomPaths
from ..stores import driver_names


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("store", help="add, list or remove stores", description="Add, list or remove stores.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", help="register a store after checking its path",
                             description="Register a store after checking that PATH is a store of TYPE.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--type", required=True, choices=driver_names(), dest="store_type")
    add.add_argument("path", metavar="PATH")
    add.set_defaults(handler=add_store)
    listing = actions.add_parser("list", help="list the stores")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_stores)
    remove = actions.add_parser("remove", help="forget a store (its backup sets are kept)")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=remove_store)


def add_store(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    store = Engine(paths).add_store(args.name, args.store_type, args.path)
    print(f"added {store.type} store {store.name!r} at {store.path}")
    return 0


def list_stores(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    stores = engine.catalog.list_stores()
    sets = engine.catalog.list_sets()
    if args.json:
        rows = []
        for store in stores:
            own = [record for record in sets if record.store == store.name]
            rows.append({**store.public_dict(), "sets": len(own), "last_backup": own[-1].created if own else None})
        print(json.dumps(rows, indent=2))
        return 0
    if not stores:
        print("no stores yet: add one with 'strongroom store add NAME --type folder|sqlite PATH'")
        return 0
    width = max(len(store.name) for store in stores)
    for store in stores:
        own = [record for record in sets if record.store == store.name]
        last = f"last backup {own[-1].created} ({own[-1].kind})" if own else "never backed up"
        print(f"{store.name:<{width}}  {store.type:<7}  {store.path}  — {last}")
    return 0


def remove_store(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    store = engine.catalog.remove_store(args.name)
    kept = len(engine.catalog.list_sets(store.name))
    print(f"removed store {store.name!r}; its {kept} backup set(s) are kept and can still be restored with --to")
    return 0
