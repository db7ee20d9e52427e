"""The ``strongroom`` command line: parsing, global options and error reporting.

Each command lives in its own module; this one builds the parser, resolves where
Strongroom's files live, and turns engine errors into one-line messages. Exit codes:
0 success, 1 a failed operation, 2 a usage error, 75 a mutex that could not be had in
time, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..remedies import cli_words, explained
from .usage import UsageError

# The commands, the engine and the errors they raise are imported only once a command is
# known to run: `strongroom --version` starts in a tenth of a second.

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MUTEX_TIMEOUT = 75  # EX_TEMPFAIL: try again later
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2) instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from . import agent, backup, jobs, locks, notify, plans, prune, restore, sets, status, stores

    parser = _Parser(prog="strongroom", description="Back up and restore stores; see who holds each store-type mutex.")
    parser.add_argument("--version", action="version", version=f"strongroom {__version__}")
    parser.add_argument("--home", metavar="DIR", help="keep everything Strongroom writes under DIR (or set STRONGROOM_HOME)")
    parser.add_argument("--lock-dir", metavar="DIR", help="the lock directory (or set STRONGROOM_LOCK_DIR)")
    parser.add_argument("--lock-scope", choices=("user", "machine"),
                        help="user: private locks (default); machine: shared by several administrators")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for command in (stores, backup, sets, prune, restore, jobs, status, locks, plans, agent, notify):
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        print(f"strongroom {__version__}")
        return 0
    from ..agent.presence import AgentRunning
    from ..expected_errors import EXPECTED_ERRORS
    from ..mutex import MutexTimeout
    from ..paths import resolve_paths
    from ..store_types import StoreTypeError

    parser = build_parser()
    # Everything after the first "--" is a child command (`locks with TYPE -- COMMAND...`),
    # never options of ours.
    split = argv.index("--") if "--" in argv else len(argv)
    try:
        args = parser.parse_args(argv[:split])
        args.child_command = argv[split + 1 :]
        if split < len(argv) and not getattr(args, "takes_child_command", False):
            raise UsageError(f"unexpected '--' and command for 'strongroom {args.command}'")
        paths = resolve_paths(args.home, lock_dir=args.lock_dir, lock_scope=args.lock_scope)
        return args.handler(args, paths)
    except UsageError as error:
        print(f"strongroom: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreTypeError as error:
        print(f"strongroom: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except MutexTimeout as error:
        print(f"strongroom: {explained(error, cli_words)}", file=sys.stderr)
        return EXIT_MUTEX_TIMEOUT
    except EXPECTED_ERRORS as error:
        print(f"strongroom: {explained(error, cli_words)}", file=sys.stderr)
        return EXIT_FAILED
    except AgentRunning as error:
        print(f"strongroom: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("strongroom: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run() -> None:
    """Console-script entry point."""
    try:
        sys.exit(main())
    except BrokenPipeError:  # `strongroom browse SET | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    run()
