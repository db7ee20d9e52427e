"""Sizes, rates and durations as people read them (shared by the CLI and the console)."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(count: float) -> str:
    value = float(count)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_rate(bytes_per_second: float) -> str:
    return f"{human_bytes(bytes_per_second)}/s"


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def human_span(seconds: float) -> str:
    """How long something has lasted: "42 s", "3 min 07 s", "2 h 05 min"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def human_age(seconds: float) -> str:
    """How long ago, roughly: "just now", "12 min ago", "5 h ago", "3 days ago"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def human_time(value: str | float | None) -> str:
    """A catalog timestamp (ISO 8601, UTC) or a Unix time, as local time to the second."""
    from datetime import datetime, timezone

    if value is None or value == "":
        return "—"
    try:
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            moment = datetime.fromtimestamp(value, timezone.utc)
    except (ValueError, OverflowError, OSError):
        return str(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def counted(number: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``3 files``: a count with its noun in the right number (``many`` when not just one + s)."""
    return f"{number} {one if number == 1 else many or one + 's'}"
