"""Engine errors as the engine's own one-line messages, shown in a dialog, never a traceback."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.expected_errors import EXPECTED_ERRORS, os_error_text
from ..core.remedies import Fix, Remedy, explained, with_words

log = logging.getLogger(__name__)


def console_words(fix: Fix) -> str:
    """What to do about an error, in the console's own terms (the CLI has core.remedies.cli_words)."""
    values = fix.values
    return {
        Remedy.OTHER_STORE_TYPE: f"or choose the type “{values.get('type')}” for {values.get('what')}",
        Remedy.REMOVE_STORE_FIRST: f"choose another name, or first remove the store {values.get('name')} (select it, "
                                   "then Remove…)",
        Remedy.ADD_STORE: "add it with “Add store…”",
        Remedy.RESTORE_ELSEWHERE: "make room or make it writable there, or go Back to the destination page and "
                                  "choose another folder (on another file system if it is full)",
        Remedy.OVERWRITE_POLICY: "choose the overwrite policy “if older” or “always” to replace them",
        Remedy.ALLOW_DAMAGED: "choose another set, verify it again from the Sets view, or tick “Restore this damaged "
                              "set anyway” in the restore wizard",
        Remedy.RESTORE_FROM_ITS_STORE: f"restore it from the store {values.get('store')}",
        Remedy.LINK_IN_THE_WAY: "remove the link, or go Back to the destination page and choose an empty folder",
        Remedy.LIST_SETS: "the store's Sets… window lists the sets that remain",
        Remedy.BACK_UP_FIRST: f"back it up first (select {values.get('store')}, then Back up now)",
        Remedy.LIST_JOBS: "the Jobs table lists them",
        Remedy.EDIT_PLAN: f"choose another name, or edit the plan {values.get('name')} in the Plans tab",
        Remedy.ADD_PLAN: "add one with “New plan…” in the Plans tab",
        Remedy.BREAK_LOCK: "if that holder is gone, clear it with “Break lock…” in the lock panel",
        Remedy.CLEAR_LOCK_RECORD: "or clear it with “Break lock…” in the lock panel",
        Remedy.LOOK_AT_LOCKS_AGAIN: "look at the lock panel again",
        Remedy.VERIFY_UNTRUSTED: "choose it again with “Verify a set file…” and answer “Verify anyway”",
        Remedy.OTHER_TARGET: "or choose another target folder in the backup wizard or in Settings",
        Remedy.CHOOSE_DESTINATION: "choose the folder to restore into on the destination page",
        Remedy.BROWSE_SET: "the restore wizard's items page lists what it holds",
    }[fix.remedy]


def job_error_text(job) -> str | None:
    """A failed job's message with its fix in the console's terms."""
    return with_words(job.error, job.fix, console_words) if job.error else job.error


def error_text(error: BaseException) -> str:
    """The message an administrator sees for ``error``."""
    if isinstance(error, EXPECTED_ERRORS):
        return explained(error, console_words)
    if isinstance(error, OSError):
        return os_error_text(error)
    log.error("unexpected error", exc_info=error)
    return f"unexpected error: {error!r} — please report this; the details are in the console's log"


def show_error(parent: QWidget, title: str, error: BaseException | str) -> QMessageBox:
    """A window-modal message that does not block the caller (the event loop keeps running)."""
    text = error if isinstance(error, str) else error_text(error)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorMessage")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask(parent: QWidget, title: str, text: str, yes: str, no: str = "Cancel") -> bool:
    """A yes/no question whose buttons say what they do; "no" is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button
