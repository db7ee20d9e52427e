"""``strongroom sets``, ``browse`` and ``verify``: what backup sets exist, hold, and whether they are intact."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime, timezone

from ..archive import ROOT, Entry, SetManifest, display_path
from ..engine import Engine
from ..jobs import JobState
from ..paths import StrongroomPaths
from ..stores import StoreError
from ..units import counted, human_bytes
from .prune import delete_sets
from .usage import UsageError


def add_parser(commands: argparse._SubParsersAction) -> None:
    sets = commands.add_parser("sets", help="list backup sets, or delete some",
                               description="List the backup sets, oldest first ('sets [NAME]'), or delete sets "
                                           "('sets delete SET_ID... [--force]'): a set that incrementals stand on "
                                           "is refused unless --force, which deletes them too.")
    sets.add_argument("words", nargs="*", metavar="NAME | delete SET_ID...")
    sets.add_argument("--json", action="store_true")
    sets.add_argument("--force", action="store_true", help="with delete: also delete the sets that stand on these")
    sets.set_defaults(handler=list_sets)
    browse = commands.add_parser("browse", help="list what a backup set holds",
                                 description="List the files, folders and links of a set's point in time: all of "
                                             "them, or what one folder holds (read through the set's index, so a "
                                             "folder of a huge set lists at once).")
    browse.add_argument("set", metavar="SET_ID|FILE")
    browse.add_argument("path", nargs="?", metavar="PATH", help="list only this folder of the store (or this item)")
    browse.add_argument("--recursive", "-R", action="store_true", help="with PATH: everything below it too")
    browse.add_argument("--json", action="store_true")
    browse.set_defaults(handler=browse_set)
    verify = commands.add_parser("verify", help="check every byte of a backup set",
                                 description="Read a set and check every member against its manifest. "
                                             "Exit 0 when intact, 1 when damaged.")
    verify.add_argument("set", metavar="SET_ID|FILE")
    verify.add_argument("--untrusted", action="store_true",
                        help="FILE is a set this catalog does not know: check it anyway")
    verify.add_argument("--deep", nargs="?", const="", metavar="URL",
                        help="a database set: also load it into a throwaway database and check it there, on the "
                             "server at URL (default: the store's own server); the database is dropped after")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=verify_set)


def list_sets(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    engine = Engine(paths)
    if len(args.words) > 1 and args.words[0] == "delete":
        return delete_sets(engine, args.words[1:], args.force)
    if len(args.words) > 1:
        raise UsageError("give one store NAME, or 'delete SET_ID...'")
    args.name = args.words[0] if args.words else None
    if args.force:
        raise UsageError("--force goes with 'sets delete SET_ID'")
    records = engine.catalog.list_sets(args.name)
    if args.name and not records:
        engine.store(args.name)  # an unknown name gets the catalog's message
    if args.json:
        print(json.dumps([record.public_dict() for record in records], indent=2))
        return 0
    if not records:
        print("no backup sets yet: run 'strongroom backup NAME'")
        return 0
    for record in records:
        verified = f"DAMAGED ({record.damaged})" if record.damaged else \
            "verified" if record.verified else "not verified"
        print(f"{record.id}  {record.kind:<11}  {record.created}  {counted(record.files, 'file')}  "
              f"{human_bytes(record.bytes)} -> {human_bytes(record.stored_bytes)}  {verified}")
    return 0


_LETTERS = {"file": "-", "dir": "d", "symlink": "l", "hardlink": "h", "fifo": "p"}  # as ls does; h: hard link


def _mtime(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def browse_set(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    manifest = Engine(paths).manifest_for(args.set)
    entries, deleted = _listing(manifest, args.path, args.recursive)
    if args.json:  # written as it is read: a million entries never sit in memory at once
        head = {"set_id": manifest.set_id, "store": manifest.store, "kind": manifest.kind,
                "parent": manifest.parent, "created": manifest.created}
        out = sys.stdout
        out.write(json.dumps(head)[:-1] + ', "deleted": [')
        for number, path in enumerate(deleted):
            out.write((", " if number else "") + json.dumps(path))
        out.write('], "entries": [\n')
        for number, entry in enumerate(entries):
            out.write((",\n" if number else "") + json.dumps(entry.public_dict()))
        out.write("\n]}\n")
        return 0
    where = f" in {display_path(args.path)}" if args.path else ""
    print(f"set {manifest.set_id} of {manifest.store_type} store {manifest.store!r} ({manifest.kind}, "
          f"{manifest.created}), {len(manifest.entries)} items{where}")
    for entry in entries:
        size = str(entry.size) if entry.type == "file" else "-"
        link = {"symlink": " -> ", "hardlink": " => "}.get(entry.type)
        link = f"{link}{display_path(entry.target or '')}" if link else ""
        sparse = " (sparse)" if entry.sparse is not None else ""
        held = f"  (in {entry.set_id})" if entry.set_id != manifest.set_id else ""
        print(f"{_LETTERS[entry.type]}{entry.mode:04o} {entry.user or entry.uid}:{entry.group or entry.gid} {size:>12} "
              f"{_mtime(entry.mtime_ns)}  {display_path(entry.path)}{link}{sparse}{held}")
    for path in deleted:
        print(f"- deleted since the parent set: {display_path(path)}")
    return 0


def _listing(manifest: SetManifest, path: str | None, recursive: bool) -> tuple[Iterable[Entry], Iterable[str]]:
    """The entries to list (everything, a folder's contents, or everything below it) and the deletions."""
    if not path:
        return manifest.entries, manifest.deleted
    relative = path.strip("/") or ROOT
    found = manifest.entries.find(relative)
    if found is None:
        raise StoreError(f"'{display_path(relative)}' is not in set {manifest.set_id}: run 'strongroom browse "
                         f"{manifest.set_id}' to list what it holds")
    inside = relative + "/" if relative != ROOT else ""
    deleted = (gone for gone in manifest.deleted if not inside or gone.startswith(inside))
    if found.type != "dir":
        return [found], ()
    if recursive:
        return manifest.entries.below(relative), deleted
    return manifest.entries.children(relative), ()


def verify_set(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    job = Engine(paths).verify_job(args.set, untrusted=args.untrusted, deep=args.deep)
    job.run()
    report = job.report
    if args.json:
        document = report.public_dict() if report else {"path": str(job.path), "ok": False, "problems": [job.error]}
        print(json.dumps(document, indent=2))
    elif job.state == JobState.SUCCEEDED:
        print(report.summary() if report else "intact")
    else:
        print(f"strongroom: {job.error}")
    return 0 if job.state == JobState.SUCCEEDED else 1
