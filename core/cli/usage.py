"""The usage error shared by every command (exit 2, one line), and the number types every option uses.

Every number on the command line is checked where it is parsed: ``nan``, ``inf``, negative
waits, levels out of zstd's range and counts below one get argparse's one-line usage error
naming the option, never a traceback later on.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime

MAX_SECONDS = 366 * 24 * 3600.0  # a year: longer is a typo, and some clocks and queues overflow far past it


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


def seconds(text: str) -> float:
    """A wait in seconds: a finite number, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a wait: give 0 to {MAX_SECONDS:.0f} seconds")
    return value


def positive_seconds(text: str) -> float:
    """An interval in seconds: finite and more than 0."""
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def count(text: str) -> int:
    """A whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def level(text: str) -> int:
    """A zstd compression level, 1 to 22."""
    value = count(text)
    if value > 22:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: use 1 (fastest) to 22 (smallest)")
    return value


_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def size(text: str) -> int:
    """A size in bytes: a whole number, optionally with K, M, G or T (powers of 1024), more than 0."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = cleaned[-1:] if cleaned[-1:] in _SIZE_UNITS else ""
    number = cleaned[: len(cleaned) - len(unit)]
    if not number.isdigit() or int(number) == 0 or int(number) * _SIZE_UNITS[unit] >= 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: give bytes, or a number with K, M, G or T")
    return int(number) * _SIZE_UNITS[unit]


def moment(text: str) -> datetime:
    """A point in time: ISO 8601 (``2026-12-01 23:00``, ``2026-12-01T22:00Z``), local time when no zone is given."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a point in time: give a date and time such as "
                                         "'2026-12-01 23:00' (local time) or '2026-12-01T22:00Z'") from None
    return value if value.tzinfo is not None else value.astimezone()
