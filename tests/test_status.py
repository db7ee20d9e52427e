"""`strongroom status`: fresh, warning, critical and failed stores, and the exit codes monitoring reads."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

from strongroom.core.health import Health, store_health
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import PlanBook

from .conftest import cli
from .trees import make_tree


def backed_up(home, tmp_path, name: str = "docs"):
    tree = make_tree(tmp_path / name, {"a.txt": name})
    assert cli(home, "store", "add", name, "--type", "folder", str(tree)).returncode == 0
    assert cli(home, "backup", name).returncode == 0
    return tree


def test_a_fresh_store_exits_0_and_says_when_its_last_good_backup_was(home, tmp_path) -> None:
    backed_up(home, tmp_path)
    result = cli(home, "status")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("FRESH     docs: backed up within 2d")
    document = json.loads(cli(home, "status", "--json").stdout)
    (store,) = document["stores"]
    assert document["health"] == "fresh" and store["sets"] == 1 and store["last_good"]["age_seconds"] < 60


def test_ages_past_the_warning_and_the_critical_age_give_1_and_2(engine, home, tmp_path) -> None:
    backed_up(home, tmp_path)
    created = datetime.fromisoformat(engine.catalog.list_sets()[0].created.replace("Z", "+00:00"))
    assert [row.health for row in store_health(engine.catalog, created + timedelta(days=3))] == [Health.WARNING]
    assert [row.health for row in store_health(engine.catalog, created + timedelta(days=8))] == [Health.CRITICAL]
    assert cli(home, "store", "health", "docs", "--warn-after", "1S", "--critical-after", "1y").returncode == 0
    rows = store_health(engine.catalog, created + timedelta(seconds=5))
    assert (rows[0].health, rows[0].why) == (Health.WARNING, "the last good backup is older than 1S")
    assert cli(home, "store", "health", "docs", "--warn-after", "2d", "--critical-after", "7d").returncode == 0
    for days, code, word in ((3, 1, "WARNING"), (8, 2, "CRITICAL")):
        with engine.catalog.connect() as connection:  # as if the set had been made that long ago
            connection.execute("UPDATE sets SET created = ?", ((datetime.now(timezone.utc) - timedelta(days=days))
                                                              .isoformat(timespec="milliseconds")
                                                              .replace("+00:00", "Z"),))
        result = cli(home, "status")
        assert result.returncode == code and result.stdout.startswith(word), result.stdout


def test_a_plan_s_ages_apply_to_its_stores_the_tightest_when_several(engine, home, tmp_path) -> None:
    backed_up(home, tmp_path)
    book = PlanBook(engine.catalog)
    book.add(Plan(name="hourly", stores=("docs",), schedule="hourly", warn_after="2H", critical_after="6H"))
    book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30", warn_after="36H"))
    created = datetime.fromisoformat(engine.catalog.list_sets()[0].created.replace("Z", "+00:00"))
    (row,) = store_health(engine.catalog, created + timedelta(hours=3))
    assert (row.health, row.warn_after, row.critical_after) == (Health.WARNING, "2H", "6H")
    assert row.next_run is not None and row.next_run[0] in ("hourly", "nightly")  # the soonest of its plans


def test_a_store_never_backed_up_or_whose_last_backup_failed_is_critical(home, tmp_path) -> None:
    tree = backed_up(home, tmp_path)
    empty = make_tree(tmp_path / "new", {"n.txt": "n"})
    cli(home, "store", "add", "new", "--type", "folder", str(empty))
    shutil.rmtree(tree)
    assert cli(home, "backup", "docs").returncode == 1
    result = cli(home, "status")
    assert result.returncode == 2
    assert "CRITICAL  docs: the last backup failed: the store path" in result.stdout
    assert "CRITICAL  new: never backed up" in result.stdout
    assert "last failure " in result.stdout
    document = json.loads(cli(home, "status", "--json").stdout)
    assert document["health"] == "critical"
    assert {store["store"]: store["health"] for store in document["stores"]} == {"docs": "critical",
                                                                                "new": "critical"}


def test_a_bad_duration_for_status_ages_is_refused_with_how_to_write_one(home, tmp_path) -> None:
    backed_up(home, tmp_path)
    result = cli(home, "store", "health", "docs", "--warn-after", "soon")
    assert result.returncode == 1 and "'soon' is not a duration" in result.stderr


def test_a_status_with_no_failures_after_the_last_good_set_stays_fresh(engine, home, tmp_path) -> None:
    tree = backed_up(home, tmp_path)
    shutil.move(str(tree), str(tmp_path / "away"))
    assert cli(home, "backup", "docs").returncode == 1
    shutil.move(str(tmp_path / "away"), str(tree))
    assert cli(home, "backup", "docs").returncode == 0  # a good set after the failure
    assert cli(home, "status").returncode == 0
    now = datetime.now(timezone.utc)
    assert all(row.last_failure is None for row in store_health(engine.catalog, now))
