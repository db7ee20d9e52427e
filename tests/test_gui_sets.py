"""The console's Sets dialog: a store's sets, Delete with the chain rules, Verify all, the retention preview."""

from __future__ import annotations

from PySide6.QtCore import Qt

from strongroom.core.jobs import BackupOptions, JobState
from strongroom.gui.sets_dialog import KIND, PARENT, STATE, WOULD, SetsDialog

from .gui_support import answer, wait_for_jobs
from .trees import make_tree


def chain(engine, tmp_path, count: int = 3) -> list[str]:
    tree = make_tree(tmp_path / "docs", {"a.txt": "a"})
    engine.add_store("docs", "folder", str(tree))
    ids = []
    for number in range(count):
        (tree / "a.txt").write_text("a" * (number + 2))
        job = engine.backup_job("docs", BackupOptions(verify=False, incremental=number > 0))
        assert job.run() == JobState.SUCCEEDED
        ids.append(job.set_id)
    return ids


def text(dialog, row: int, column: int) -> str:
    return dialog.table.item(row, column).text()


def test_the_sets_dialog_lists_each_set_with_its_chain_and_deletes_one_with_what_stands_on_it(
        console, engine, qtbot, tmp_path, monkeypatch) -> None:
    ids = chain(engine, tmp_path)
    console.refresh_stores()
    console.stores_view.table.selectRow(0)
    qtbot.mouseClick(console.stores_view.sets_button, Qt.MouseButton.LeftButton)
    dialog = console.findChild(SetsDialog)
    assert dialog.table.rowCount() == 3
    assert [text(dialog, row, KIND) for row in range(3)] == ["full", "incremental", "incremental"]
    assert text(dialog, 1, PARENT).startswith("the set of ") and text(dialog, 0, STATE) == "not verified"
    assert dialog.table.item(1, PARENT).toolTip() == ids[0]
    questions = answer(monkeypatch, "strongroom.gui.sets_dialog", True)
    dialog.table.selectRow(1)
    dialog.delete_selected()
    assert "1 incremental set stands on it" in questions[0] and ids[2] in questions[0]
    assert dialog.message.text().startswith("Deleted 2 sets;")
    assert [record.id for record in engine.catalog.list_sets()] == ids[:1]
    assert dialog.table.rowCount() == 1


def test_the_retention_preview_shows_what_a_policy_keeps_and_removes_nothing_until_pruned(
        console, engine, qtbot, tmp_path) -> None:
    ids = chain(engine, tmp_path, 4)
    engine.backup_job("docs", BackupOptions(verify=False)).run()  # a new full set: the old chain is no longer needed
    dialog = console.open_sets_dialog("docs")
    dialog.keep["last"].setValue(1)
    would = dialog.preview()
    assert [would[set_id][0] for set_id in ids] == [False] * 4
    assert text(dialog, 4, WOULD) == "keep: last #1" and text(dialog, 0, WOULD) == "remove: no rule keeps it"
    assert "1 set kept, 4 removed at the next prune" in dialog.message.text()
    assert len(engine.catalog.list_sets()) == 5
    dialog.save_policy()
    assert engine.store_retention("docs").keep_last == 1


def test_verify_all_starts_a_verify_job_for_every_set_and_a_damaged_one_is_shown_so(console, engine, qtbot,
                                                                                   tmp_path) -> None:
    ids = chain(engine, tmp_path, 2)
    path = engine.catalog.get_set(ids[1]).path
    data = bytearray(open(path, "rb").read())
    data[300] ^= 0xFF
    open(path, "wb").write(bytes(data))
    dialog = console.open_sets_dialog("docs")
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    jobs = list(console.manager.jobs.values())
    assert sorted(job.operation for job in jobs) == ["verify", "verify"]
    wait_for_jobs(qtbot, jobs)
    dialog.refresh()
    assert text(dialog, 0, STATE).startswith("verified ")
    assert text(dialog, 1, STATE).startswith("damaged (")
