"""What the scheduler starts, skips and catches up, with an injected clock and no sleeping."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from strongroom.core.catalog import Catalog
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import SKIPPED, PlanBook, Trigger, iso
from strongroom.core.plans.scheduler import Scheduler

from .conftest import dead_pid

START = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Harness:
    """A scheduler over a real catalog whose runs are recorded, not started."""

    def __init__(self, catalog: Catalog, clock: Clock) -> None:
        self.clock = clock
        self.book = PlanBook(catalog, clock)
        self.started: list[tuple[str, str, datetime]] = []
        self.lines: list[str] = []
        self.busy: set[str] = set()
        self.scheduler = Scheduler(self.book, self.start, lambda name: name in self.busy, self.lines.append, clock)

    def start(self, plan: Plan, trigger: str, slot: datetime) -> None:
        self.started.append((plan.name, trigger, slot))

    def tick(self):
        return self.scheduler.tick()


@pytest.fixture
def catalog(tmp_path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.add_store("docs", "folder", str(tmp_path))
    catalog.add_store("mail", "folder", str(tmp_path))
    return catalog


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def harness(catalog: Catalog, clock: Clock) -> Harness:
    return Harness(catalog, clock)


def hourly(name: str = "hourly", **changes) -> Plan:
    return Plan(**{"name": name, "stores": ("docs",), "schedule": "hourly", "timezone": "UTC", **changes})


def test_a_new_plan_waits_for_its_first_slot_instead_of_running_for_slots_before_it_existed(harness, clock) -> None:
    harness.book.add(hourly())
    upcoming = harness.tick()
    assert harness.started == []
    assert upcoming is not None and upcoming.at == START + timedelta(hours=1)
    clock.advance(minutes=59, seconds=59)
    harness.tick()
    assert harness.started == []


def test_a_due_plan_starts_once_for_its_slot(harness, clock) -> None:
    harness.book.add(hourly())
    clock.advance(hours=1, seconds=3)
    harness.tick()
    harness.tick()
    clock.advance(seconds=30)
    harness.tick()
    assert harness.started == [("hourly", Trigger.SCHEDULE, START + timedelta(hours=1))]


def test_after_three_days_off_a_plan_catches_up_once_not_once_per_missed_slot(harness, clock) -> None:
    harness.book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30", timezone="UTC"))
    clock.advance(days=3)
    harness.tick()
    assert harness.started == [("nightly", Trigger.CATCH_UP, datetime(2026, 12, 4, 2, 30, tzinfo=timezone.utc))]
    assert any("catching up the run due at 2026-12-04 02:30 UTC (3 scheduled runs were missed; it runs once)"
               in line for line in harness.lines), harness.lines
    harness.tick()
    assert len(harness.started) == 1


def test_a_slot_that_comes_while_the_previous_run_goes_on_is_skipped_and_said(harness, clock) -> None:
    harness.book.add(hourly())
    clock.advance(hours=1)
    harness.tick()
    harness.busy.add("hourly")
    clock.advance(hours=1)
    harness.tick()
    assert len(harness.started) == 1
    skip = harness.book.runs("hourly")[0]
    assert skip.result == SKIPPED and "previous run is still going" in skip.detail
    assert any("was skipped" in line for line in harness.lines)
    harness.busy.clear()
    clock.advance(hours=1)
    harness.tick()
    assert [slot for _, _, slot in harness.started] == [START + timedelta(hours=1), START + timedelta(hours=3)]


def test_a_run_still_going_in_another_live_process_also_prevents_a_pile_up(harness, clock) -> None:
    harness.book.add(hourly())
    harness.book.start_run("hourly", Trigger.MANUAL, None)  # this process: alive
    clock.advance(hours=1)
    harness.tick()
    assert harness.started == []
    assert harness.book.runs("hourly")[0].result == SKIPPED


def test_a_run_left_unfinished_by_a_killed_process_is_closed_and_does_not_block(harness, catalog, clock) -> None:
    harness.book.add(hourly())
    run = harness.book.start_run("hourly", Trigger.MANUAL, None)
    with catalog.connect() as connection:
        connection.execute("UPDATE plan_runs SET pid = ?, process_start = NULL WHERE id = ?", (dead_pid(), run.id))
    clock.advance(hours=1)
    harness.tick()
    assert len(harness.started) == 1
    closed = next(item for item in harness.book.runs("hourly") if item.id == run.id)
    assert closed.result == "failed" and "ended before the run finished" in closed.detail


def test_two_schedulers_on_one_catalog_never_both_take_a_slot(catalog, clock) -> None:
    first, second = Harness(catalog, clock), Harness(catalog, clock)
    first.book.add(hourly())
    clock.advance(hours=1)
    first.tick()
    second.tick()
    assert len(first.started) + len(second.started) == 1


def test_a_plan_added_or_changed_by_another_process_is_seen_at_the_next_tick(harness, catalog, clock) -> None:
    harness.tick()
    other = PlanBook(Catalog(catalog.path), clock)
    other.add(hourly("other"))
    upcoming = harness.tick()
    assert upcoming is not None and upcoming.plan == "other"
    other.replace(hourly("other", schedule="*/10 * * * *"))
    assert harness.tick().at == START + timedelta(minutes=10)


def test_a_new_schedule_counts_from_when_it_was_saved(harness, clock) -> None:
    harness.book.add(Plan(name="p", stores=("docs",), schedule="daily 02:30", timezone="UTC"))
    clock.advance(days=2)
    harness.book.replace(Plan(name="p", stores=("docs",), schedule="daily 03:30", timezone="UTC"))
    harness.tick()
    assert harness.started == []  # the old schedule's missed slots are not the new one's


def test_a_disabled_plan_does_not_run_and_enabling_it_does_not_catch_up_the_disabled_days(harness, clock) -> None:
    harness.book.add(hourly(enabled=False))
    clock.advance(days=2)
    harness.tick()
    assert harness.started == []
    harness.book.set_enabled("hourly", True)
    harness.tick()
    assert harness.started == []
    clock.advance(hours=1)
    harness.tick()
    assert len(harness.started) == 1


def test_a_damaged_plan_is_reported_once_and_the_others_still_run(harness, catalog, clock) -> None:
    harness.book.add(hourly("good"))
    harness.book.add(hourly("bad"))
    with catalog.connect() as connection:
        connection.execute("UPDATE plans SET document = ? WHERE name = 'bad'",
                           (json.dumps({"name": "bad", "stores": ["docs"], "schedule": "every tuesday"}),))
    clock.advance(hours=1)
    harness.tick()
    harness.tick()
    assert [name for name, _, _ in harness.started] == ["good"]
    reports = [line for line in harness.lines if "cannot be read" in line]
    assert len(reports) == 1 and "plan bad" in reports[0] and "every tuesday" in reports[0]


@pytest.mark.parametrize(("night", "expected_local"), [
    (datetime(2026, 10, 24, 12, tzinfo=ZoneInfo("Europe/Berlin")), ["2026-10-25T02:30:00+02:00"]),
    (datetime(2026, 3, 28, 12, tzinfo=ZoneInfo("Europe/Berlin")), ["2026-03-29T03:00:00+02:00"]),
])
def test_ticking_every_ten_minutes_through_a_daylight_saving_night_starts_the_daily_plan_once(
        catalog, night, expected_local) -> None:
    clock = Clock(night.astimezone(timezone.utc))
    harness = Harness(catalog, clock)
    harness.book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30", timezone="Europe/Berlin"))
    for _ in range(24 * 6):
        clock.advance(minutes=10)
        harness.tick()
    assert [slot.isoformat() for _, _, slot in harness.started] == expected_local
    assert {trigger for _, trigger, _ in harness.started} == {Trigger.SCHEDULE}


def test_the_next_slot_of_any_plan_is_what_the_scheduler_waits_for(harness, clock) -> None:
    harness.book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30", timezone="UTC"))
    harness.book.add(hourly())
    upcoming = harness.tick()
    assert (upcoming.plan, upcoming.at) == ("hourly", START + timedelta(hours=1))
    assert harness.book.handled_slot("hourly") == datetime.fromisoformat(iso(START).replace("Z", "+00:00"))
