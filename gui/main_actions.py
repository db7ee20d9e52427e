"""The main window's actions: its menus and toolbar, each action with its icon, shortcut and tip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle


def _action(window, text: str, slot, icon: QStyle.StandardPixmap | None = None, shortcut=None,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    if shortcut is not None:
        action.setShortcut(shortcut)
    action.setStatusTip(tip)
    action.setToolTip(tip or text)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(window) -> None:
    """The window's actions, in its menus and toolbar."""
    pixmap = QStyle.StandardPixmap
    window.backup_action = _action(window, "&Backup…", window.open_backup_wizard, pixmap.SP_DialogSaveButton,
                                   QKeySequence("Ctrl+B"), "Back up one or more stores")
    window.restore_action = _action(window, "&Restore…", window.open_restore_wizard, pixmap.SP_DialogOpenButton,
                                    QKeySequence("Ctrl+R"), "Restore a store from a backup set")
    window.restore_several_action = _action(window, "Restore &several stores…", window.open_several_restore_wizard,
                                            None, QKeySequence("Ctrl+Shift+R"), "Restore several stores at once, "
                                            "each as it was at one moment")
    window.verify_action = _action(window, "&Verify…", window.open_verify_dialog, pixmap.SP_DialogApplyButton,
                                   None, "Read back every byte of a backup set")
    window.add_store_action = _action(window, "&Add store…", window.add_store, pixmap.SP_FileDialogNewFolder,
                                      QKeySequence("Ctrl+N"), "Register a store: a folder, a SQLite file, or a "
                                      "PostgreSQL or MariaDB database")
    window.settings_action = _action(window, "&Settings…", window.open_settings, pixmap.SP_FileDialogDetailedView,
                                     QKeySequence.StandardKey.Preferences, "Default target, lock scope, "
                                     "compression, verify")
    window.cancel_all_action = _action(window, "Cancel &all jobs", window.cancel_all, pixmap.SP_BrowserStop, None,
                                       "Cancel every queued, waiting and running job")
    window.about_action = _action(window, "&About Strongroom", window.show_about, pixmap.SP_MessageBoxInformation)
    window.quit_action = _action(window, "&Quit", window.close, None, QKeySequence.StandardKey.Quit)
    window.cancel_all_action.setEnabled(False)

    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(window.add_store_action)
    file_menu.addAction(window.settings_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    jobs_menu = window.menuBar().addMenu("&Jobs")
    for action in (window.backup_action, window.restore_action, window.restore_several_action, window.verify_action):
        jobs_menu.addAction(action)
    jobs_menu.addSeparator()
    jobs_menu.addAction(window.cancel_all_action)
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(window.about_action)

    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setIconSize(QSize(24, 24))
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (window.backup_action, window.restore_action, window.verify_action):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addAction(window.add_store_action)
    toolbar.addAction(window.settings_action)
    toolbar.addSeparator()
    toolbar.addAction(window.cancel_all_action)
