"""Retention rules against borg prune's documented example and its own test calendars, plus chains."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from strongroom.core.catalog import SetRecord
from strongroom.core.retention.policy import RetentionError, RetentionPolicy, parse_interval
from strongroom.core.retention.select import apply_rules, choose, dependents

UTC = timezone.utc


def made(number: int, moment: datetime, kind: str = "full", parent: str | None = None) -> SetRecord:
    return SetRecord(id=f"s{number:03d}", store="docs", store_type="folder", kind=kind, parent=parent,
                     created=moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                     path=f"/backups/docs/s{number:03d}.tar.zst", files=1, bytes=1, stored_bytes=100,
                     manifest_sha256="0" * 64)


def kept(sets, policy, now, **kwargs) -> dict[str, str]:
    decisions = choose(sets, lambda record: None, {None: policy}, now, UTC, **kwargs)
    return {decision.record.id: decision.reason for decision in decisions if decision.keep}


def test_borgs_documented_example_keeps_the_same_sets_for_the_same_reasons() -> None:
    """docs/misc/prune-example.txt: a set each day of 2015 but 12-19; --keep-daily 14 --keep-monthly 6
    --keep-yearly 1 on 2016-01-01."""
    sets, day = [], date(2015, 1, 1)
    while day.year == 2015:
        if day != date(2015, 12, 19):
            sets.append(made(len(sets), datetime(day.year, day.month, day.day, 10, tzinfo=UTC)))
        day += timedelta(days=1)
    result = kept(sets, RetentionPolicy(keep_daily=14, keep_monthly=6, keep_yearly=1), datetime(2016, 1, 1, tzinfo=UTC))
    by_day = {next(r.created[:10] for r in sets if r.id == set_id): reason for set_id, reason in result.items()}
    daily = ["2015-12-31", "2015-12-30", "2015-12-29", "2015-12-28", "2015-12-27", "2015-12-26", "2015-12-25",
             "2015-12-24", "2015-12-23", "2015-12-22", "2015-12-21", "2015-12-20", "2015-12-18", "2015-12-17"]
    monthly = ["2015-11-30", "2015-10-31", "2015-09-30", "2015-08-31", "2015-07-31", "2015-06-30"]
    assert by_day == {**{day: f"daily #{n}" for n, day in enumerate(daily, 1)},
                      **{day: f"monthly #{n}" for n, day in enumerate(monthly, 1)},
                      "2015-01-01": "yearly[oldest] #1"}


BORG_CALENDAR = [  # borg's testsuite prune_cmd_test.py::test_prune_split
    datetime(2015, 1, 1, 10, 0, 0), datetime(2016, 1, 1, 10, 0, 0), datetime(2017, 1, 1, 10, 0, 0),
    datetime(2017, 2, 1, 10, 0, 0), datetime(2017, 3, 1, 10, 0, 0), datetime(2017, 3, 2, 10, 0, 0),
    datetime(2017, 3, 3, 10, 0, 0), datetime(2017, 3, 4, 10, 0, 0), datetime(2017, 10, 1, 9, 45, 0),
    datetime(2017, 10, 1, 9, 55, 0), datetime(2017, 10, 1, 10, 0, 1), datetime(2017, 10, 1, 10, 0, 3),
    datetime(2017, 10, 1, 10, 0, 5)]


@pytest.mark.parametrize(("rule", "number", "expected"), [
    ("yearly", 3, {13, 2, 1}), ("monthly", 3, {13, 8, 4}), ("weekly", 2, {13, 8}), ("daily", 3, {13, 8, 7}),
    ("hourly", 3, {13, 10, 8}), ("last", 4, {13, 12, 11, 10}), ("daily", 0, set()),
])
def test_each_rule_keeps_what_borgs_own_tests_expect(rule: str, number: int, expected: set[int]) -> None:
    sets = [made(index, moment.replace(tzinfo=UTC)) for index, moment in enumerate(BORG_CALENDAR, 1)]
    marks: dict[str, str] = {}
    apply_rules(sets, RetentionPolicy(**{f"keep_{rule}": number}), datetime(2018, 1, 1, tzinfo=UTC), UTC, marks)
    assert marks.keys() == {f"s{index:03d}" for index in expected}
    assert all(reason.startswith(rule) for reason in marks.values())


def test_a_rule_short_of_its_number_keeps_the_oldest_set_as_borg_1_2_does() -> None:
    moments = [datetime(2018, 1, 1, 10), datetime(2018, 12, 30, 10), datetime(2018, 12, 31, 10),
               datetime(2019, 12, 31, 10)]
    sets = [made(index, moment.replace(tzinfo=UTC)) for index, moment in enumerate(moments, 1)]
    marks: dict[str, str] = {}
    apply_rules(sets, RetentionPolicy(keep_yearly=3), datetime(2020, 1, 1, tzinfo=UTC), UTC, marks)
    assert marks == {"s004": "yearly #1", "s003": "yearly #2", "s001": "yearly[oldest] #3"}
    marks = {}
    apply_rules(sets, RetentionPolicy(keep_yearly=2), datetime(2020, 1, 1, tzinfo=UTC), UTC, marks)
    assert marks == {"s004": "yearly #1", "s003": "yearly #2"}


@pytest.mark.parametrize(("within", "expected"), [
    ("2H", {0, 1}), ("3H", {0, 1, 2}), ("24H", {0, 1, 2, 3}), ("26H", {0, 1, 2, 3, 4}), ("2d", {0, 1, 2, 3, 4}),
    ("50H", {0, 1, 2, 3, 4, 5}), ("1w", {0, 1, 2, 3, 4, 5}),
])
def test_keep_within_keeps_every_set_younger_than_the_duration(within: str, expected: set[int]) -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    offsets = [60, 90 * 60, 150 * 60, 210 * 60, 25 * 3600, 49 * 3600]  # borg's test_prune_within
    sets = [made(index, now - timedelta(seconds=offset)) for index, offset in enumerate(offsets)]
    marks: dict[str, str] = {}
    apply_rules(sets, RetentionPolicy(keep_within=within), now, UTC, marks)
    assert marks.keys() == {f"s{index:03d}" for index in expected}


def test_a_kept_incremental_keeps_the_whole_chain_it_stands_on_and_says_why() -> None:
    start = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
    sets = [made(0, start)]
    for day in range(1, 6):
        sets.append(made(day, start + timedelta(days=day), "incremental", sets[-1].id))
    result = kept(sets, RetentionPolicy(keep_last=1), start + timedelta(days=7))
    assert result["s005"] == "last #1"
    assert result["s004"] == "kept set s005 stands on it" and result["s000"] == "kept set s001 stands on it"
    assert len(result) == 6
    assert [record.id for record in dependents(sets, "s002")] == ["s003", "s004", "s005"]


def test_a_damaged_set_never_counts_toward_a_rule() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    sets = [made(day, start + timedelta(days=day)) for day in range(4)]
    result = kept(sets, RetentionPolicy(keep_last=2), start + timedelta(days=5), damaged={"s002": "frame 3 damaged"})
    assert result == {"s003": "last #1", "s001": "last #2"}


def test_the_newest_set_is_kept_even_when_no_rule_keeps_it() -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    sets = [made(0, old), made(1, old + timedelta(days=1))]
    assert kept(sets, RetentionPolicy(keep_within="1d"), datetime(2026, 1, 1, tzinfo=UTC)) == {
        "s001": "the newest set (the next incremental's parent)"}


def test_each_plan_s_policy_covers_only_the_sets_it_made() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    sets = [made(day, start + timedelta(days=day)) for day in range(6)]
    made_by = {"s000": "nightly", "s002": "nightly", "s004": "nightly"}
    decisions = choose(sets, lambda record: made_by.get(record.id),
                       {"nightly": RetentionPolicy(keep_last=1), None: None}, start + timedelta(days=9), UTC)
    reasons = {decision.record.id: (decision.keep, decision.reason) for decision in decisions}
    assert reasons["s004"] == (True, "last #1")
    assert reasons["s000"] == reasons["s002"] == (False, "no rule keeps it")
    assert reasons["s001"] == (True, "the store (for sets made by hand) has no retention policy")


@pytest.mark.parametrize(("text", "seconds"), [("36H", 36 * 3600), ("7d", 7 * 86400), ("2w", 14 * 86400),
                                               ("1m", 31 * 86400), ("1y", 365 * 86400)])
def test_durations_are_read_as_borg_reads_them(text: str, seconds: int) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["7", "d", "0d", "-1d", "1.5d", "7days"])
def test_a_duration_that_cannot_be_read_says_how_to_write_one(text: str) -> None:
    with pytest.raises(RetentionError, match="is not a duration"):
        parse_interval(text)
