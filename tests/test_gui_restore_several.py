"""The console restores several stores at once (issue 17, finding 15): picked from the Stores table or the
Jobs menu, each from its newest good set as of a moment, each into a folder of its own, one job each."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QTreeWidget

from strongroom.core.jobs import JobState

from .gui_support import wait_for_jobs
from .oracle import compare
from .test_sqlite_store import make_database as make_sqlite
from .trees import make_tree

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def stores(console, tmp_path: Path) -> dict[str, Path]:
    engine = console.engine
    made = {"photos": make_tree(tmp_path / "photos", {"a.jpg": os.urandom(50_000), "trip/b.jpg": "b"}),
            "papers": make_tree(tmp_path / "papers", {"tax.pdf": "2026"}),
            "ledger": make_sqlite(tmp_path / "ledger.db")}
    for name, path in made.items():
        engine.add_store(name, "sqlite" if name == "ledger" else "folder", str(path))
        assert engine.backup_job(name).run() == JobState.SUCCEEDED
    console.refresh_stores()
    return made


def rows_of(tree: QTreeWidget) -> dict[str, list[str]]:
    return {tree.topLevelItem(row).text(0): [tree.topLevelItem(row).text(column) for column in
                                            range(tree.columnCount())] for row in range(tree.topLevelItemCount())}


def picked(page, name: str) -> str | None:
    """The id of the set the picks page would restore ``name`` from."""
    pick = next(pick for pick in page.chosen() if pick.store.name == name)
    return pick.record.id


def tick_only(wizard, names: set[str]) -> None:
    tree = wizard.picks_page.tree
    for row in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(row)
        if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(0, Qt.CheckState.Checked if item.text(0) in names else Qt.CheckState.Unchecked)


def to_summary(qtbot, wizard, folder: Path | None):
    wizard.next()
    if folder is not None:
        wizard.places_page.choice.other.setChecked(True)
        wizard.places_page.choice.picker.setText(str(folder))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.summary_page.restores is not None, timeout=20_000)
    return wizard.summary_page


def restore_jobs(console) -> list:
    return [job for job in console.manager.jobs.values() if job.operation == "restore"]


def test_selecting_several_stores_and_restore_brings_them_all_back_at_once(console, qtbot, stores, tmp_path) -> None:
    view = console.stores_view
    view.table.selectAll()
    assert view.restore_button.isEnabled() and "3 selected stores" in view.restore_button.toolTip()
    view.restore_button.click()
    wizard = console.wizard
    assert wizard.objectName() == "severalRestoreWizard"
    assert {pick.store.name for pick in wizard.picks_page.chosen()} == set(stores)
    summary = to_summary(qtbot, wizard, tmp_path / "out")
    assert summary.isComplete(), summary.headline.text()
    assert "Restore 3 stores at once" in summary.headline.text()
    assert "Run at the same time: one job per store type (folder, sqlite)" in summary.order.text()
    assert "Take turns on <code>strongroom.folder</code>, one at a time: papers, photos" in summary.order.text()
    lines = rows_of(summary.tree)
    assert lines["photos"][1:] == [str(tmp_path / "out" / "photos"), "4 created, 0 overwritten, 0 kept as they are",
                                   "48.8 KiB"]
    wizard.accept()
    qtbot.waitUntil(lambda: len(restore_jobs(console)) == 3, timeout=10_000)
    wait_for_jobs(qtbot, restore_jobs(console))
    assert {job.state for job in restore_jobs(console)} == {JobState.SUCCEEDED}
    for name in ("photos", "papers"):
        found = compare(stores[name], tmp_path / "out" / name, tmp_path)
        assert found["ok"], found["report"]
    assert (tmp_path / "out" / "ledger" / "ledger.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_a_damaged_newest_set_is_passed_over_with_a_warning_on_the_page_and_in_the_job(console, qtbot, stores,
                                                                                     tmp_path) -> None:
    engine = console.engine
    first = engine.catalog.latest_set("papers")
    (stores["papers"] / "tax.pdf").write_text("newer")
    assert engine.backup_job("papers").run() == JobState.SUCCEEDED
    newest = engine.catalog.latest_set("papers")
    engine.catalog.mark_damaged(newest.id, "checksum mismatch")
    wizard = console.open_several_restore_wizard({"papers"})
    row = rows_of(wizard.picks_page.tree)["papers"]
    assert row[4] == "newest set damaged: an older one" and wizard.picks_page.notes.isVisibleTo(wizard)
    assert f"papers: set {newest.id}" in wizard.picks_page.notes.text()
    assert f"restoring set {first.id}" in wizard.picks_page.notes.text()
    summary = to_summary(qtbot, wizard, tmp_path / "out")
    assert f"papers: set {newest.id}" in summary.headline.text()
    assert f"restoring set {first.id}" in summary.tree.topLevelItem(0).toolTip(0)
    wizard.accept()
    qtbot.waitUntil(lambda: len(restore_jobs(console)) == 1, timeout=10_000)
    [job] = restore_jobs(console)
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.WARNINGS and job.warnings[0].startswith(f"set {newest.id}")
    assert (tmp_path / "out" / "papers" / "tax.pdf").read_text() == "2026"


def test_as_of_a_moment_each_store_shows_the_set_it_had_then_and_none_before_its_first(console, qtbot, stores) -> None:
    engine = console.engine
    first = engine.catalog.latest_set("photos")
    with engine.catalog.connect() as connection:  # as if the first set had been taken two hours ago
        taken = (first.taken - timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        connection.execute("UPDATE sets SET created = ? WHERE id = ?", (taken, first.id))
    first = engine.catalog.get_set(first.id)
    assert engine.backup_job("photos").run() == JobState.SUCCEEDED
    wizard = console.open_several_restore_wizard()
    page = wizard.picks_page
    assert picked(page, "photos") == engine.catalog.latest_set("photos").id
    page.as_of.setChecked(True)
    page.moment.setDateTime(QDateTime.fromSecsSinceEpoch(int((first.taken + timedelta(hours=1)).timestamp())))
    assert picked(page, "photos") == first.id
    assert rows_of(page.tree)["papers"][4].startswith("no backup set taken by")  # its only set is newer
    page.moment.setDateTime(QDateTime.fromSecsSinceEpoch(int((first.taken - timedelta(hours=1)).timestamp())))
    assert all(row[4].startswith("no backup set taken by") for row in rows_of(page.tree).values())
    assert not page.isComplete()  # nothing restorable to tick
    wizard.reject()


def test_a_removed_store_is_listed_by_its_sets_and_restored_from_where_its_set_says(console, qtbot, stores,
                                                                                   tmp_path) -> None:
    console.engine.catalog.remove_store("papers")
    console.refresh_stores()
    wizard = console.open_several_restore_wizard({"papers"})
    assert "removed store" in wizard.picks_page.tree.topLevelItem(1).toolTip(0)
    summary = to_summary(qtbot, wizard, tmp_path / "out")
    assert summary.isComplete(), summary.headline.text()
    wizard.accept()
    qtbot.waitUntil(lambda: len(restore_jobs(console)) == 1, timeout=10_000)
    wait_for_jobs(qtbot, restore_jobs(console))
    assert (tmp_path / "out" / "papers" / "tax.pdf").read_text() == "2026"


def test_stores_that_together_overfill_a_file_system_cannot_start(console, qtbot, tmp_path, small_disk) -> None:
    engine = console.engine
    for name in ("left", "right"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"data.bin": os.urandom(1_200_000)})))
        assert engine.backup_job(name).run() == JobState.SUCCEEDED
    wizard = console.open_several_restore_wizard({"left", "right"})
    summary = to_summary(qtbot, wizard, small_disk / "out")
    assert "This does not fit: 2.3 MiB to write into" in summary.headline.text()
    assert not summary.isComplete()
    wizard.back()
    wizard.back()
    tick_only(wizard, {"left"})
    summary = to_summary(qtbot, wizard, small_disk / "out")
    assert summary.isComplete(), summary.headline.text()
    wizard.reject()


def test_a_database_restored_into_its_own_existing_database_is_refused_until_a_new_one_is_chosen(
        console, qtbot, tmp_path, postgresql_server) -> None:
    from .test_database_stores import make_database

    engine = console.engine
    database = make_database(postgresql_server, rows=50)
    engine.add_store("crm", "postgresql", postgresql_server.url(database))
    assert engine.backup_job("crm").run() == JobState.SUCCEEDED
    wizard = console.open_several_restore_wizard({"crm"})
    wizard.next()
    places = wizard.places_page
    assert not places.choice.isVisibleTo(places)  # no file store ticked: no folder to choose
    places.own_databases.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.summary_page.restores is not None, timeout=20_000)
    assert "cannot run — the database" in rows_of(wizard.summary_page.tree)["crm"][2]
    assert not wizard.summary_page.isComplete()
    wizard.back()
    places.new_databases.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.summary_page.restores is not None, timeout=20_000)
    assert wizard.summary_page.isComplete(), wizard.summary_page.headline.text()
    [_, into, what, _] = rows_of(wizard.summary_page.tree)["crm"]
    assert into.startswith(f"the database {database}_") and "does not exist yet and will be created" in what
    wizard.accept()
    qtbot.waitUntil(lambda: len(restore_jobs(console)) == 1, timeout=10_000)
    [job] = restore_jobs(console)
    wait_for_jobs(qtbot, [job], timeout=60_000)
    assert job.state == JobState.SUCCEEDED, job.error
    restored = job.options.to_database
    assert postgresql_server.sql("SELECT count(*) FROM ledger", restored).strip() == "50"
    postgresql_server.sql(f'DROP DATABASE "{restored}"')
