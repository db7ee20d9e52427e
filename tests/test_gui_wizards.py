"""Both wizards driven end to end with qtbot, and the set-contents tree behind the restore wizard."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import Qt

from strongroom.core.jobs import JobState
from strongroom.gui.models.manifest_tree import ManifestTreeModel, find_matches
from strongroom.gui.wizards.backup_wizard import BackupWizard

from .conftest import Rendezvous
from .gui_support import ExternalHolder, wait_for_jobs
from .test_sqlite_store import make_database
from .trees import make_tree


def finish(wizard) -> None:
    """Press Finish the way a user does (the wizard validates the last page first)."""
    assert wizard.currentPage().isComplete()
    wizard.button(wizard.WizardButton.FinishButton).click()


def test_backup_wizard_launches_two_store_types_that_overlap_in_time(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": os.urandom(50_000), "d/b": "b"})))
    engine.add_store("crm", "sqlite", str(make_database(tmp_path / "crm.db")))
    console.refresh_stores()
    # Each job stays inside its store until the other is inside its own: only possible
    # when the two store types' mutexes are held at the same time.
    console.manager.isolated = False  # the rendezvous and the recorded acquire below run in the jobs' threads
    rendezvous = Rendezvous(2)
    console.manager.job_added.connect(lambda job: job.add_listener(rendezvous.listener()))
    waiting_threads = []
    acquire = engine.registry.acquire

    def recording_acquire(*args, **kwargs):
        waiting_threads.append(threading.current_thread())
        return acquire(*args, **kwargs)

    engine.registry.acquire = recording_acquire
    wizard = console.open_backup_wizard(set())
    stores = wizard.stores_page
    assert not stores.isComplete()
    stores.set_checked({"docs", "crm"})
    assert stores.isComplete()
    wizard.next()
    assert wizard.destination_page.isComplete()
    wizard.next()
    wizard.options_page.level.setValue(5)
    wizard.next()
    summary = wizard.summary_page.text.toPlainText()
    assert "Run at the same time: one job per store type (folder, sqlite)" in summary
    finish(wizard)
    qtbot.waitUntil(lambda: len(console.manager.jobs) == 2)
    jobs = list(console.manager.jobs.values())
    wait_for_jobs(qtbot, jobs)
    assert [job.state for job in jobs] == [JobState.SUCCEEDED] * 2
    (took_a, gave_a), (took_b, gave_b) = (job.store_intervals[0] for job in jobs)
    assert took_a < gave_b and took_b < gave_a  # they held their mutexes at the same time
    assert len(waiting_threads) == 2 and threading.main_thread() not in waiting_threads  # the GUI never waits
    for job in jobs:
        manifest = engine.manifest_for(job.set_id)
        assert manifest.compression_level == 5 and manifest.kind == "full"


def test_backup_wizard_summary_names_the_queue_and_a_holder_already_there(console, qtbot, home, tmp_path):
    engine = console.engine
    for name in ("one", "two"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"f": name})))
    engine.add_store("crm", "sqlite", str(make_database(tmp_path / "crm.db", rows=10)))
    with ExternalHolder(home, "sqlite", job_id="cli-dbdump"):
        qtbot.waitUntil(lambda: any(s.store_type == "sqlite" and s.holder for s in console.watcher.latest))
        wizard = console.open_backup_wizard({"one", "two", "crm"})
        wizard.next()
        wizard.destination_page.use_other.setChecked(True)
        wizard.destination_page.picker.setText("not/absolute")
        assert not wizard.destination_page.isComplete()
        assert "not an absolute path" in wizard.destination_page.note.text()
        wizard.destination_page.picker.setText(str(tmp_path / "target"))
        assert wizard.destination_page.isComplete()
        wizard.next()
        wizard.options_page.incremental.setChecked(True)
        wizard.next()
        summary = wizard.summary_page.text.toPlainText()
        assert "Take turns on strongroom.folder, one at a time: one, two." in summary
        assert "strongroom.sqlite is held now by job cli-dbdump" in summary
        assert "crm (sqlite" in summary and "incremental set" in summary and "full set" not in summary
        wizard.reject()


def test_restore_wizard_restores_chosen_items_into_another_folder(console, qtbot, tmp_path):
    engine = console.engine
    files = {"notes/a.txt": os.urandom(3000), "notes/deep/b.bin": os.urandom(70_000), "photos/c.jpg": os.urandom(500),
             "top.txt": "top"}
    source = make_tree(tmp_path / "docs", files)
    engine.add_store("docs", "folder", str(source))
    engine.backup_job("docs").run()
    (source / "top.txt").write_text("changed later")
    engine.backup_job("docs", engine.default_backup_options(incremental=True)).run()
    first, latest = engine.catalog.list_sets("docs")

    wizard = console.open_restore_wizard("docs")
    assert wizard.store_page.isComplete()
    wizard.next()
    sets = wizard.set_page.tree
    assert sets.topLevelItemCount() == 2 and wizard.set_page.record().id == latest.id  # newest first
    assert sets.topLevelItem(0).text(1) == "incremental"
    sets.setCurrentItem(sets.topLevelItem(1))  # the older, full set: a point in time
    wizard.next()
    items = wizard.items_page
    qtbot.waitUntil(items.isComplete, timeout=10_000)
    model = items.model
    items.filter.setText("b.bin")
    qtbot.waitUntil(lambda: model.matches is not None and model.rowCount() == 1, timeout=10_000)
    assert model.index(0, 0).data() == "notes/deep/b.bin"
    items.filter.setText("")
    notes = next(model.index(row, 0) for row in range(model.rowCount()) if model.index(row, 0).data() == "notes")
    assert model.setData(notes, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert items.some.isChecked() and items.paths() == ("notes",)
    assert "1 folder with everything in it" in items.status.text()
    wizard.next()
    destination = tmp_path / "elsewhere"
    wizard.destination_page.other.setChecked(True)
    wizard.destination_page.picker.setText(str(destination))
    wizard.next()
    summary = wizard.summary_page
    qtbot.waitUntil(summary.isComplete, timeout=10_000)
    lines = summary.lines.toPlainText()
    assert str(destination / "notes" / "deep" / "b.bin") in lines
    assert str(source) not in lines and "photos" not in lines
    assert "0 existing files will be overwritten" in summary.headline.text()
    finish(wizard)
    qtbot.waitUntil(lambda: bool(console.manager.jobs))
    [job] = console.manager.jobs.values()
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED and job.set_id == first.id
    for relative in ("notes/a.txt", "notes/deep/b.bin"):
        assert (destination / relative).read_bytes() == files[relative]
    assert not (destination / "photos").exists() and not (destination / "top.txt").exists()


def test_restore_summary_counts_what_would_be_overwritten(console, qtbot, tmp_path):
    engine = console.engine
    source = make_tree(tmp_path / "docs", {"a.txt": "old", "b.txt": "b"})
    engine.add_store("docs", "folder", str(source))
    engine.backup_job("docs").run()
    (source / "a.txt").write_text("edited since")
    wizard = console.open_restore_wizard("docs")
    wizard.next()
    wizard.next()
    qtbot.waitUntil(wizard.items_page.isComplete, timeout=10_000)
    wizard.next()
    assert wizard.destination_page.original.isChecked()
    policy = wizard.destination_page.policy
    assert policy.currentData() == "never"
    policy.setCurrentIndex(policy.findData("always"))
    wizard.next()
    qtbot.waitUntil(wizard.summary_page.isComplete, timeout=10_000)
    assert "2 existing files will be overwritten" in wizard.summary_page.headline.text()
    wizard.back()
    policy.setCurrentIndex(policy.findData("never"))
    wizard.next()
    qtbot.waitUntil(wizard.summary_page.isComplete, timeout=10_000)
    assert "0 existing files will be overwritten, 2 existing items will be kept" in \
        wizard.summary_page.headline.text()
    finish(wizard)
    qtbot.waitUntil(lambda: bool(console.manager.jobs))
    [job] = console.manager.jobs.values()
    wait_for_jobs(qtbot, [job])
    assert (source / "a.txt").read_text() == "edited since"  # never means never


def test_restore_wizard_lists_a_removed_store_by_its_sets(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("old", "folder", str(make_tree(tmp_path / "old", {"x": "1"})))
    engine.backup_job("old").run()
    engine.catalog.remove_store("old")
    wizard = console.open_restore_wizard()
    labels = [wizard.store_page.list.item(row).text() for row in range(wizard.store_page.list.count())]
    assert labels == ["old — removed store  (1 set)"]
    wizard.store_page.list.setCurrentRow(0)  # as a click on its line
    wizard.next()
    wizard.next()
    qtbot.waitUntil(wizard.items_page.isComplete, timeout=10_000)
    wizard.next()
    assert str(tmp_path / "old") in wizard.destination_page.original.text()
    wizard.reject()


def test_restore_wizard_shows_a_missing_set_file_as_a_message(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"x": "1"})))
    engine.backup_job("docs").run()
    [record] = engine.catalog.list_sets()
    os.remove(record.path)
    wizard = console.open_restore_wizard("docs")
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: "missing" in wizard.items_page.status.text(), timeout=10_000)
    assert not wizard.items_page.isComplete() and "moved or deleted" in wizard.items_page.status.text()
    wizard.reject()


def test_stores_page_groups_by_type(engine, qtbot, tmp_path):
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"x": "1"})))
    engine.add_store("crm", "sqlite", str(make_database(tmp_path / "crm.db", rows=5)))
    wizard = BackupWizard(engine)
    qtbot.addWidget(wizard)
    tree = wizard.stores_page.tree
    groups = {tree.topLevelItem(n).text(0): [tree.topLevelItem(n).child(c).text(0)
                                             for c in range(tree.topLevelItem(n).childCount())]
              for n in range(tree.topLevelItemCount())}
    assert groups == {"folder stores": ["docs"], "sqlite stores": ["crm"]}


def test_manifest_tree_opens_folders_as_asked_checks_and_filters(engine, qtbot, tmp_path):
    source = make_tree(tmp_path / "docs", {"a/b/c.txt": "c", "a/d.txt": "dd", "e.txt": "eee", "Z.txt": "z"})
    engine.add_store("docs", "folder", str(source))
    job = engine.backup_job("docs")
    job.run()
    manifest = engine.manifest_for(job.set_id)
    model = ManifestTreeModel()
    model.set_manifest(manifest)
    names = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert names == ["a", "e.txt", "Z.txt"]  # folders first, then by name whatever the case
    a = model.index(0, 0)
    assert model.hasChildren(a) and model.rowCount(a) == 0 and model.canFetchMore(a)  # not read until opened
    model.fetchMore(a)
    assert not model.canFetchMore(a)
    assert [model.index(row, 0, a).data() for row in range(model.rowCount(a))] == ["b", "d.txt"]
    assert model.index(1, 1, a).data() == "2 B" and model.index(0, 3).data() == "folder"
    b = model.index(0, 0, a)
    model.fetchMore(b)
    model.setData(model.index(1, 0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    model.setData(b, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    model.setData(a, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert model.selected_paths() == ("a", "e.txt")  # the folder's tick covers what is below it
    assert model.index(0, 0, b).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert not model.flags(model.index(0, 0, b)) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.selected_summary() == "1 file (3 B), 1 folder with everything in it"
    model.set_matches(*find_matches(manifest, "TXT"))
    assert sorted(model.index(row, 0).data() for row in range(model.rowCount())) == [
        "Z.txt", "a/b/c.txt", "a/d.txt", "e.txt"]


def test_a_folder_of_many_items_is_read_a_chunk_at_a_time(engine, qtbot, tmp_path, monkeypatch):
    from strongroom.gui.models import manifest_tree

    monkeypatch.setattr(manifest_tree, "CHUNK", 10)
    source = make_tree(tmp_path / "docs", {f"many/f{number:03d}": "x" for number in range(25)})
    engine.add_store("docs", "folder", str(source))
    job = engine.backup_job("docs")
    job.run()
    model = ManifestTreeModel()
    model.set_manifest(engine.manifest_for(job.set_id))
    many = model.index(0, 0)
    counts = []
    while model.canFetchMore(many):
        model.fetchMore(many)
        counts.append(model.rowCount(many))
    assert counts == [10, 20, 25]
    assert [model.index(row, 0, many).data() for row in (0, 24)] == ["f000", "f024"]


def test_restore_wizard_says_when_there_is_nothing_to_restore(console, qtbot, tmp_path):
    console.engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"x": "1"})))
    wizard = console.open_restore_wizard()
    page = wizard.store_page
    assert not page.empty.isHidden() and "no store has a backup set" in page.empty.text()
    assert page.list.item(0).text().endswith("(no backup set yet)")
    assert not page.list.item(0).flags() & Qt.ItemFlag.ItemIsEnabled and not page.isComplete()
    wizard.reject()
