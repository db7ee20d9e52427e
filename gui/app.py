"""``strongroom-gui``: start the console (or, with --self-test, check that it builds and exit).

Where files live is decided exactly as for the CLI (``--home``, ``--lock-dir``,
``--lock-scope``, the STRONGROOM_* variables, then platformdirs), except that the lock
scope falls back to the one chosen in Settings. An unexpected error is logged with its
traceback under the log folder and shown as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler

from .. import core
from ..core.invalid_value import InvalidValue
from ..core.paths import StrongroomPaths, resolve_paths
from ..core.settings import load_settings

log = logging.getLogger("strongroom.gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strongroom-gui", description="The Strongroom backup console.")
    parser.add_argument("--version", action="version", version=f"strongroom-gui {core.__version__}")
    parser.add_argument("--home", metavar="DIR", help="keep everything Strongroom writes under DIR")
    parser.add_argument("--lock-dir", metavar="DIR", help="the lock directory (or set STRONGROOM_LOCK_DIR)")
    parser.add_argument("--lock-scope", choices=("user", "machine"), help="user (default) or machine-wide locks")
    parser.add_argument("--self-test", action="store_true",
                        help="build the main window and both wizards offscreen, walk them, and exit 0 if all is well")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)  # bench: print when shown
    return parser


def console_paths(args: argparse.Namespace) -> StrongroomPaths:
    """Paths as the CLI resolves them; the lock scope defaults to the one in Settings."""
    paths = resolve_paths(args.home, lock_dir=args.lock_dir, lock_scope=args.lock_scope)
    if args.lock_scope is None and not os.environ.get("STRONGROOM_LOCK_SCOPE"):
        scope = load_settings(paths.settings).settings.lock_scope
        if scope != paths.lock_scope:
            paths = resolve_paths(args.home, lock_dir=args.lock_dir, lock_scope=scope)
    return paths


SWITCH_INTERVAL = 0.002  # seconds; Python's default is 0.005


def configure_interpreter() -> None:
    """Let the GUI thread get the interpreter back sooner from busy job threads.

    Jobs run Python code (tar headers, manifests) in worker threads; with the default
    5 ms switch interval the GUI thread can queue behind several of them. 2 ms cut the
    longest event-loop stall with four jobs running (bench/gui_bench.py) at no
    measurable cost in backup throughput.
    """
    sys.setswitchinterval(SWITCH_INTERVAL)


def freeze_lasting_objects() -> None:
    """Keep what exists once the window is up out of the garbage collector's full passes.

    A full collection walks every tracked object: 45 ms with the 48,500 of a shown main
    window, and with jobs running one came every few minutes (45-113 ms stalls measured by
    bench/gui_bench.py). What exists then (modules, widgets, models) lives as long as the
    window; ``gc.freeze`` moves it out of every later collection's walk (then 0.0 ms).
    """
    gc.collect()
    gc.freeze()


def _log_to_file(paths: StrongroomPaths) -> None:
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(paths.log_dir / "console.log", maxBytes=2_000_000, backupCount=3,
                                      encoding="utf-8")
    except OSError as error:
        print(f"strongroom-gui: warning: cannot write the log in {paths.log_dir} ({error.strerror})", file=sys.stderr)
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    logging.getLogger("strongroom").addHandler(handler)
    logging.getLogger("strongroom").setLevel(logging.INFO)


def _install_excepthook(window_getter) -> None:
    """Unexpected errors in slots: logged with traceback, shown to the administrator as one line."""
    from .messages import show_error

    def hook(kind, value, traceback) -> None:
        log.error("unexpected error in the console", exc_info=(kind, value, traceback))
        window = window_getter()
        if window is not None and isinstance(value, Exception):
            show_error(window, "Unexpected error", f"unexpected error: {value!r} — please report this; "
                                                   "the details are in the console's log")

    sys.excepthook = hook


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test(args)
    try:
        paths = console_paths(args)
    except InvalidValue as error:
        print(f"strongroom-gui: {error}", file=sys.stderr)
        return 2
    _log_to_file(paths)
    configure_interpreter()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ..core.engine import Engine
    from ..core.expected_errors import EXPECTED_ERRORS
    from .icons import app_icon
    from .main_window import MainWindow
    from .messages import error_text

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Strongroom")
    app.setApplicationDisplayName("Strongroom")
    app.setDesktopFileName("strongroom")
    app.setWindowIcon(app_icon())
    try:
        engine = Engine(paths)
    except EXPECTED_ERRORS as error:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Strongroom cannot start", error_text(error))
        return 1
    window = MainWindow(engine)
    _install_excepthook(lambda: window)
    window.shown.connect(lambda: QTimer.singleShot(0, freeze_lasting_objects))  # after the first paint
    if args.startup_probe:  # the GUI benchmark: say when the window is on screen, then close it
        def probe() -> None:
            print(f"shown {time.perf_counter() - started:.3f}", flush=True)
            QTimer.singleShot(0, window.close)

        window.shown.connect(probe)
    window.show()
    return app.exec()


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
