"""When a plan runs: a cron expression (parsed by croniter) in a time zone, and its friendly forms.

Times are computed in the plan's zone (the machine's, unless the plan names one), so a
"daily at 02:30" plan stays at 02:30 local across daylight-saving changes:

- on the night the clocks go forward and 02:30 does not exist, it runs once, at 03:00;
- on the night they go back and 02:30 happens twice, it runs once, at the first. Like
  Vixie cron, only a schedule whose hour is fixed is held to that; an hourly one runs at
  both 02:00s, since an hour really passed between them.

``friendly`` turns "hourly", "daily 02:30" and "weekly mon,thu 21:00" into cron, and
``describe`` says a cron expression back in words for the console.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from ..invalid_value import InvalidValue

MAX_MISSED_COUNT = 10_000  # counting missed slots stops here (a minutely plan off for a month)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ScheduleError(InvalidValue):
    """A schedule that cannot be understood."""


def local_zone() -> tzinfo:
    """The machine's time zone with its daylight-saving rules (TZ, else /etc/localtime, else UTC)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as data:
            return ZoneInfo.from_file(data, key="localtime")
    except (OSError, ValueError):
        return timezone.utc


def zone_named(name: str | None) -> tzinfo:
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}: give a name such as Europe/Berlin or UTC") from None


def friendly(text: str) -> str:
    """A cron expression for a friendly form, or ``text`` itself when it is not one."""
    words = text.strip().lower().split()
    if words == ["hourly"]:
        return "0 * * * *"
    if len(words) == 2 and words[0] == "daily":
        hour, minute = _clock(words[1])
        return f"{minute} {hour} * * *"
    if len(words) == 3 and words[0] == "weekly":
        days = words[1].split(",")
        unknown = [day for day in days if day[:3] not in _DAYS or not day]
        if unknown:
            raise ScheduleError(f"unknown day {unknown[0]!r} in {text!r}: use mon, tue, wed, thu, fri, sat, sun")
        hour, minute = _clock(words[2])
        return f"{minute} {hour} * * {','.join(day[:3] for day in days)}"
    if words and words[0] in ("daily", "weekly"):
        raise ScheduleError(f"{text!r} is not a schedule: write 'daily HH:MM' or 'weekly mon,thu HH:MM'")
    return text.strip()


def _clock(text: str) -> tuple[int, int]:
    match = _TIME.fullmatch(text)
    if not match:
        raise ScheduleError(f"{text!r} is not a time of day: write HH:MM, 00:00 to 23:59")
    return int(match.group(1)), int(match.group(2))


class Schedule:
    """A cron expression in a time zone; every method takes and returns aware datetimes."""

    def __init__(self, expression: str, zone: tzinfo | None = None) -> None:
        self.expression = friendly(expression)
        self.zone = zone if zone is not None else local_zone()
        fields = self.expression.split()
        if len(fields) != 5 or not croniter.is_valid(self.expression):
            raise ScheduleError(f"{expression!r} is not a schedule: give five cron fields (minute hour day month "
                                "weekday, e.g. '30 2 * * *'), or hourly, 'daily HH:MM', 'weekly mon,thu HH:MM'")
        self._fixed_hour = not any(mark in fields[1] for mark in "*/-,")
        try:
            croniter(self.expression, datetime(2000, 1, 1, tzinfo=self.zone)).get_next(datetime)
        except (CroniterBadCronError, CroniterBadDateError):
            raise ScheduleError(f"{expression!r} never happens (a date that does not exist?)") from None

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after ``moment``."""
        slots = croniter(self.expression, moment.astimezone(self.zone))
        previous = self.latest_at_or_before(moment)
        while True:
            slot = slots.get_next(datetime)
            if not self._repeats(previous, slot):
                return slot
            previous = slot

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last slot at or before ``moment`` (None if the schedule has none in the last ten years)."""
        local = moment.astimezone(self.zone)
        slots = croniter(self.expression, local + timedelta(microseconds=1))
        try:
            slot = slots.get_prev(datetime)
            earlier = slots.get_prev(datetime)
        except (CroniterBadDateError, CroniterBadCronError):
            return None
        # of two slots that share a wall-clock time (clocks went back), the first one counts
        return earlier if self._repeats(earlier, slot) else slot

    def missed_between(self, after: datetime, until: datetime) -> int:
        """How many slots fell in (after, until] (at most MAX_MISSED_COUNT)."""
        count, moment = 0, after
        while count < MAX_MISSED_COUNT:
            moment = self.next_after(moment)
            if moment > until:
                break
            count += 1
        return count

    def _repeats(self, first: datetime | None, second: datetime) -> bool:
        """``second`` is ``first``'s wall-clock time again, after the clocks went back, on a fixed-hour schedule."""
        return (self._fixed_hour and first is not None and first.replace(tzinfo=None) == second.replace(tzinfo=None)
                and first.utcoffset() != second.utcoffset())

    def describe(self) -> str:
        return describe(self.expression)


@lru_cache(maxsize=256)
def describe(expression: str) -> str:
    """A cron expression in words, for its common shapes; the expression itself otherwise."""
    fields = expression.split()
    if len(fields) != 5:
        return expression
    minute, hour, day, month, weekday = fields
    if minute.isdigit() and (hour, day, month, weekday) == ("*", "*", "*", "*"):
        return "hourly" if minute == "0" else f"hourly at :{int(minute):02d}"
    if not (minute.isdigit() and hour.isdigit() and day == "*" and month == "*"):
        return f"cron {expression}"
    at = f"{int(hour):02d}:{int(minute):02d}"
    if weekday == "*":
        return f"daily at {at}"
    return f"weekly on {weekday.replace(',', ', ')} at {at}"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
