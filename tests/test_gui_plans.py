"""The console and plans: the Plans tab, the plan dialog, "Save as a plan", and who runs the schedule."""

from __future__ import annotations

import json
import sqlite3

from PySide6.QtCore import Qt

from strongroom.core.agent.presence import RECORD_NAME
from strongroom.core.identity import this_process
from strongroom.core.jobs import JobState
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import PlanBook
from strongroom.gui.models.plans_model import LAST, NEXT, RESULT, SCHEDULE
from strongroom.gui.models.stores_model import NEXT as STORE_NEXT
from strongroom.gui.plan_dialog import PlanDialog

from .gui_support import cell_text
from .trees import make_tree


def add_store(engine, tmp_path, name: str = "docs") -> None:
    engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a.txt": name})))


def overdue(engine, plan: str) -> None:
    with sqlite3.connect(engine.paths.catalog) as connection:
        connection.execute("UPDATE plans SET handled_slot = '2020-01-01T00:00:00.000Z' WHERE name = ?", (plan,))


def row_of(console, name: str) -> int:
    model = console.plans_view.model
    return next(row for row in range(model.rowCount()) if model.overview_at(row).plan.name == name)


def test_the_plans_tab_shows_each_plan_s_next_run_and_the_stores_tab_each_store_s(console, engine, tmp_path):
    add_store(engine, tmp_path, "docs")
    add_store(engine, tmp_path, "mail")
    book = PlanBook(engine.catalog)
    book.add(Plan(name="nightly", stores=("docs", "mail"), schedule="daily 02:30"))
    book.add(Plan(name="paused", stores=("mail",), schedule="hourly", enabled=False))
    console.refresh_stores()
    console.plans.refresh()
    table = console.plans_view.table
    nightly, paused = row_of(console, "nightly"), row_of(console, "paused")
    assert cell_text(table, nightly, SCHEDULE) == "daily at 02:30"
    assert cell_text(table, nightly, NEXT).endswith("02:30:00")
    assert cell_text(table, nightly, LAST) == "never"
    assert cell_text(table, paused, NEXT) == "disabled"
    stores = console.stores_view.table
    assert all(cell_text(stores, row, STORE_NEXT).endswith("02:30:00 (nightly)") for row in range(2))


def test_a_plan_made_in_the_dialog_is_saved_and_a_bad_one_is_refused_in_place(console, engine, qtbot, tmp_path):
    add_store(engine, tmp_path)
    console.top_tabs.setCurrentWidget(console.plans_view)
    qtbot.mouseClick(console.plans_view.new_button, Qt.MouseButton.LeftButton)
    dialog = console.findChild(PlanDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.name.setText("weekly")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.text() == "tick at least one store"
    dialog.stores.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.schedule.kind.setCurrentIndex(3)  # custom cron
    dialog.schedule.cron.setText("61 * * * *")
    dialog.accept()
    assert dialog.isVisible() and "is not a schedule" in dialog.error.text()
    dialog.schedule.kind.setCurrentIndex(2)  # some days of the week
    for key, box in dialog.schedule.days.items():
        box.setChecked(key in ("mon", "thu"))
    dialog.excludes.setPlainText("*.tmp\nbuild/\n")
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    plan = PlanBook(engine.catalog).get("weekly")
    assert (plan.stores, plan.schedule, plan.excludes) == (("docs",), "30 2 * * mon,thu", ("*.tmp", "build/"))
    qtbot.waitUntil(lambda: console.plans_view.model.rowCount() == 1)
    console.plans_view.table.selectRow(0)
    qtbot.mouseClick(console.plans_view.toggle_button, Qt.MouseButton.LeftButton)
    assert not PlanBook(engine.catalog).get("weekly").enabled
    assert console.plans_view.toggle_button.text() == "Enable"


def test_the_backup_wizard_can_save_the_backup_as_a_plan_instead_of_starting_it(console, engine, qtbot, tmp_path):
    add_store(engine, tmp_path)
    console.refresh_stores()
    wizard = console.open_backup_wizard({"docs"})
    wizard.options_page.incremental.setChecked(True)
    for _ in range(3):
        wizard.next()
    summary = wizard.summary_page
    summary.as_plan.setChecked(True)
    assert wizard.buttonText(wizard.WizardButton.FinishButton) == "Save plan"
    wizard.accept()  # no name yet: refused on the page
    assert wizard.isVisible() and "not a valid plan name" in summary.plan_error.text()
    summary.plan_name.setText("nightly")
    summary.full_every.setValue(5)
    wizard.accept()
    qtbot.waitUntil(lambda: not wizard.isVisible())
    plan = PlanBook(engine.catalog).get("nightly")
    assert (plan.stores, plan.schedule, plan.full_every) == (("docs",), "30 2 * * *", 5)
    assert console.manager.jobs == {}  # nothing was started
    assert console.top_tabs.currentWidget() is console.plans_view


def test_with_no_agent_the_console_runs_an_overdue_plan_and_shows_its_jobs(console, engine, qtbot, tmp_path):
    add_store(engine, tmp_path)
    PlanBook(engine.catalog).add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30"))
    overdue(engine, "nightly")
    assert "Plans run by this console while it is open" in console.plans_view.charge.text()
    qtbot.waitUntil(lambda: any(job.record.plan == "nightly" for job in console.manager.jobs.values()), timeout=20_000)
    job = next(job for job in console.manager.jobs.values() if job.record.plan == "nightly")
    qtbot.waitUntil(lambda: job.state.terminal and not console.manager.busy, timeout=30_000)
    assert job.state == JobState.SUCCEEDED
    assert console.jobs_view.model.row_of(job.id) is not None  # shown in the Jobs view
    qtbot.waitUntil(lambda: PlanBook(engine.catalog).last_run("nightly") is not None
                    and PlanBook(engine.catalog).last_run("nightly").finished is not None, timeout=10_000)
    console.plans.refresh()
    row = row_of(console, "nightly")
    assert cell_text(console.plans_view.table, row, RESULT) == "succeeded"
    assert "(catch-up)" in cell_text(console.plans_view.table, row, LAST)


def test_with_an_agent_running_the_console_leaves_the_schedule_to_it(console, engine, qtbot, tmp_path):
    add_store(engine, tmp_path)
    PlanBook(engine.catalog).add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30"))
    me = this_process()  # an agent record of a live process: this one
    (engine.paths.data_dir / RECORD_NAME).write_text(json.dumps({
        "format": 1, "pid": me.pid, "host": me.host, "process_start": me.start, "pid_namespace": me.pid_namespace,
        "since": "2026-12-02T00:00:00Z", "next_plan": "nightly", "next_at": "2026-12-02T02:30+00:00"}))
    console.plans.host.check()
    assert f"Plans run by the agent (pid {me.pid}" in console.plans_view.charge.text()
    assert "next: nightly at" in console.plans_view.charge.text()
    overdue(engine, "nightly")
    console.plans.host.check()
    qtbot.waitUntil(lambda: not console.plans.host.hosting)  # the console's own loop has ended
    assert console.manager.jobs == {} and PlanBook(engine.catalog).last_run("nightly") is None


def test_run_now_starts_the_plan_s_jobs_in_the_console(console, engine, qtbot, tmp_path):
    add_store(engine, tmp_path)
    PlanBook(engine.catalog).add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30"))
    console.plans.refresh()
    console.plans_view.table.selectRow(0)
    qtbot.mouseClick(console.plans_view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(console.manager.jobs) == 1, timeout=10_000)
    job = next(iter(console.manager.jobs.values()))
    qtbot.waitUntil(lambda: job.state.terminal and not console.plans.busy, timeout=30_000)
    assert job.state == JobState.SUCCEEDED and job.record.plan == "nightly"
    assert PlanBook(engine.catalog).last_run("nightly").trigger == "manual"
