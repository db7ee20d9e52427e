"""Schedules: cron and friendly forms in a time zone, daylight-saving nights, missed slots."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from strongroom.core.plans.schedule import Schedule, ScheduleError, describe, friendly

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def slots(schedule: Schedule, start: datetime, count: int) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment)
    return found


@pytest.mark.parametrize(("text", "cron"), [
    ("hourly", "0 * * * *"),
    ("daily 02:30", "30 2 * * *"),
    ("daily 7:05", "5 7 * * *"),
    ("weekly mon,thu 21:00", "0 21 * * mon,thu"),
    ("Weekly Monday,Friday 06:15", "15 6 * * mon,fri"),
    ("*/15 * * * *", "*/15 * * * *"),
])
def test_friendly_forms_become_cron(text: str, cron: str) -> None:
    assert friendly(text) == cron


@pytest.mark.parametrize(("text", "words"), [
    ("daily 25:00", "not a time of day"),
    ("weekly someday 10:00", "unknown day 'someday'"),
    ("daily", "not a schedule"),
    ("61 * * * *", "five cron fields"),
    ("* * *", "five cron fields"),
    ("0 0 31 2 *", "never happens"),
])
def test_a_schedule_that_cannot_be_read_is_refused_with_what_to_write(text: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        Schedule(text, BERLIN)


def test_a_cron_expression_is_described_in_words() -> None:
    assert describe("30 2 * * *") == "daily at 02:30"
    assert describe("0 21 * * mon,thu") == "weekly on mon, thu at 21:00"
    assert describe("0 * * * *") == "hourly"
    assert describe("*/5 * * * *") == "cron */5 * * * *"


def test_a_daily_plan_runs_once_on_the_night_the_clocks_go_back() -> None:
    schedule = Schedule("daily 02:30", BERLIN)
    found = slots(schedule, datetime(2026, 10, 24, 12, tzinfo=BERLIN), 3)
    assert [slot.isoformat() for slot in found] == [
        "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"]


def test_a_daily_plan_runs_once_at_three_on_the_night_the_clocks_go_forward() -> None:
    schedule = Schedule("30 2 * * *", BERLIN)
    found = slots(schedule, datetime(2026, 3, 28, 12, tzinfo=BERLIN), 2)
    assert [slot.isoformat() for slot in found] == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]


def test_an_hourly_plan_runs_in_both_hours_that_read_two_oclock() -> None:
    schedule = Schedule("hourly", BERLIN)
    found = slots(schedule, datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN), 4)
    assert [slot.astimezone(timezone.utc).hour for slot in found] == [23, 0, 1, 2]  # an hour apart, every time
    assert [slot.hour for slot in found] == [1, 2, 2, 3]


def test_the_latest_slot_on_a_doubled_night_is_the_first_of_the_two() -> None:
    schedule = Schedule("daily 01:30", NEW_YORK)  # New York goes back at 02:00 on 1 November 2026
    after_both = datetime(2026, 11, 1, 7, 0, tzinfo=timezone.utc)  # 02:00 EST
    latest = schedule.latest_at_or_before(after_both)
    assert latest is not None and latest.isoformat() == "2026-11-01T01:30:00-04:00"
    assert schedule.next_after(after_both).isoformat() == "2026-11-02T01:30:00-05:00"


def test_missed_slots_are_counted_between_two_moments() -> None:
    schedule = Schedule("daily 02:30", BERLIN)
    start = datetime(2026, 10, 1, tzinfo=BERLIN)
    assert schedule.missed_between(start, start + timedelta(days=30)) == 30  # the doubled night counts once
    assert schedule.missed_between(start, start + timedelta(hours=1)) == 0


def test_the_latest_slot_at_or_before_a_moment_includes_the_moment_itself() -> None:
    schedule = Schedule("0 * * * *", timezone.utc)
    moment = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    assert schedule.latest_at_or_before(moment) == moment
    assert schedule.next_after(moment) == moment + timedelta(hours=1)
