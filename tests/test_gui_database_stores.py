"""The console over database stores: fields per type in the Add-store dialog, restores into a database."""

from __future__ import annotations

import pytest

from strongroom.core.jobs import JobState
from strongroom.gui.store_dialog import StoreDialog

from .gui_support import wait_for_jobs
from .test_database_stores import contents, make_database, new_name
from .test_gui_wizards import finish

pytestmark = pytest.mark.timeout(300)


def test_the_add_store_dialog_asks_a_server_store_for_host_port_user_database_and_credentials(
        console, qtbot, postgresql_server, tmp_path) -> None:
    database = make_database(postgresql_server, rows=5)
    dialog = StoreDialog(console.engine, parent=console)
    dialog.show()
    dialog.type.setCurrentIndex(dialog.type.findData("postgresql"))
    assert dialog.server.isVisible() and not dialog.path.isVisible()
    assert dialog.server.port.value() == 5432  # the type's default port
    assert "pgpass" in dialog.hint.text()
    dialog.name.setText("crm")
    dialog.server.host.setText("127.0.0.1")
    dialog.server.port.setValue(postgresql_server.port)
    dialog.server.user.setText(postgresql_server.superuser)
    dialog.server.database.setText(new_name("missing"))
    dialog.server.credentials.setText(str(postgresql_server.credentials))
    dialog.accept()
    assert dialog.error.isVisible() and "does not exist" in dialog.error.text()
    assert dialog.hint.isVisible() and dialog.hint.height() >= dialog.hint.heightForWidth(dialog.hint.width())  # not clipped
    assert dialog.error.height() >= dialog.error.heightForWidth(dialog.error.width())
    dialog.grab().save(str(tmp_path / "add-server-store.png"))
    dialog.server.database.setText(database)
    dialog.accept()
    store = console.engine.store("crm")
    assert store.type == "postgresql"
    assert store.path == (f"postgresql://{postgresql_server.superuser}@127.0.0.1:{postgresql_server.port}/{database}"
                          f"?credentials={postgresql_server.credentials}")


def test_the_path_label_shows_its_shortcut_not_an_ampersand(console) -> None:
    dialog = StoreDialog(console.engine, parent=console)
    dialog.show()
    dialog.type.setCurrentIndex(dialog.type.findData("folder"))
    labels = [label.text() for label in dialog.findChildren(type(dialog.hint)) if label.isVisible()]
    assert "&Path:" in labels and all(label.buddy() is not None for label in dialog.findChildren(type(dialog.hint))
                                      if label.text() == "&Path:")


def test_the_restore_wizard_loads_a_database_set_into_a_new_database(console, qtbot, mariadb_server) -> None:
    engine = console.engine
    database = make_database(mariadb_server, rows=40)
    engine.add_store("shop", "mariadb", mariadb_server.url(database))
    assert engine.backup_job("shop").run() == JobState.SUCCEEDED
    console.refresh_stores()
    wizard = console.open_restore_wizard("shop")
    wizard.next()
    wizard.next()
    items = wizard.items_page
    qtbot.waitUntil(items.isComplete, timeout=10_000)
    assert not items.some.isEnabled() and "restored whole" in items.status.text()
    wizard.next()
    destination = wizard.destination_page
    assert destination.own_database.isVisible() and not destination.choice.isVisible()
    assert [destination.policy.itemData(i) for i in range(destination.policy.count())] == ["never", "always"]
    summary = wizard.summary_page
    wizard.next()  # the store's own database exists and the policy is never: refused before starting
    qtbot.waitUntil(lambda: "cannot run" in summary.headline.text(), timeout=30_000)
    assert "already exists" in summary.headline.text() and not summary.isComplete()
    wizard.back()
    copy = new_name("copy")
    destination.new_database.setChecked(True)
    destination.database_name.setText(copy)
    wizard.next()
    qtbot.waitUntil(summary.isComplete, timeout=30_000)
    assert f"into the database {copy}" in summary.headline.text() and "will be created" in summary.headline.text()
    finish(wizard)
    qtbot.waitUntil(lambda: any(job.operation == "restore" for job in console.manager.jobs.values()))
    [job] = [job for job in console.manager.jobs.values() if job.operation == "restore"]
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED, job.error
    assert contents(mariadb_server, copy) == contents(mariadb_server, database)
