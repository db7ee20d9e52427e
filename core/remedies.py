"""What to do about an error, as data: the core says what is wrong, each front end says the fix in its own terms.

Messages such as "or use --type folder" or "remove it first with 'strongroom store remove
projects'" are right on a command line and wrong in the console, where there is no flag to
type. A core error that has a fix the user acts on carries it as a ``Fix`` (a ``Remedy`` and
the values it needs); its message says what is wrong and stops there. The CLI adds
``cli_words(fix)``, the console ``console_words(fix)`` (gui/messages.py); ``explained``
gives the message with the fix in either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Remedy(Enum):
    OTHER_STORE_TYPE = "other-store-type"  # values: type, what
    REMOVE_STORE_FIRST = "remove-store-first"  # values: name
    ADD_STORE = "add-store"
    RESTORE_ELSEWHERE = "restore-elsewhere"  # the destination is full, not writable, or in the way
    OVERWRITE_POLICY = "overwrite-policy"  # existing files were kept
    ALLOW_DAMAGED = "allow-damaged"  # values: set
    RESTORE_FROM_ITS_STORE = "restore-from-its-store"  # values: store, set
    LINK_IN_THE_WAY = "link-in-the-way"  # a link inside the destination stands where the restore must write
    LIST_SETS = "list-sets"  # a set that is not (or no longer) there
    BACK_UP_FIRST = "back-up-first"  # values: store
    LIST_JOBS = "list-jobs"
    EDIT_PLAN = "edit-plan"  # values: name
    ADD_PLAN = "add-plan"
    BREAK_LOCK = "break-lock"  # values: type; a holder that cannot be proved gone
    CLEAR_LOCK_RECORD = "clear-lock-record"  # values: type; a holder record that cannot be read
    LOOK_AT_LOCKS_AGAIN = "look-at-locks-again"  # a lock changed while the user was asked
    VERIFY_UNTRUSTED = "verify-untrusted"  # a set file the catalog does not know
    OTHER_TARGET = "other-target"  # a backup target that is full or not writable
    CHOOSE_DESTINATION = "choose-destination"  # a set from elsewhere is never restored in place
    BROWSE_SET = "browse-set"  # values: set; a path the set does not hold


@dataclass(frozen=True)
class Fix:
    remedy: Remedy
    values: dict[str, str] = field(default_factory=dict)


def with_fix(error: BaseException, remedy: Remedy, **values: str) -> BaseException:
    """``error`` carrying what to do about it (returned, to be raised)."""
    error.fix = Fix(remedy, dict(values))  # type: ignore[attr-defined]
    return error


def fix_of(error: BaseException | None) -> Fix | None:
    return getattr(error, "fix", None)


def cli_words(fix: Fix) -> str:
    values = fix.values
    return {
        Remedy.OTHER_STORE_TYPE: f"or use --type {values.get('type')} for {values.get('what')}",
        Remedy.REMOVE_STORE_FIRST: f"choose another name, or remove it first with 'strongroom store remove "
                                   f"{values.get('name')}'",
        Remedy.ADD_STORE: "add it with 'strongroom store add NAME --type TYPE PATH'",
        Remedy.RESTORE_ELSEWHERE: "make room or make it writable there, or restore with --to into another folder "
                                  "(on another file system if it is full)",
        Remedy.OVERWRITE_POLICY: "use --overwrite if-older or always to replace them",
        Remedy.ALLOW_DAMAGED: "choose another set, verify it again, or give --allow-damaged to restore it anyway",
        Remedy.RESTORE_FROM_ITS_STORE: f"restore it with 'strongroom restore {values.get('store')} --set "
                                       f"{values.get('set')}'",
        Remedy.LINK_IN_THE_WAY: "remove the link, or restore with --to into an empty folder",
        Remedy.LIST_SETS: "run 'strongroom sets' to list the sets that remain",
        Remedy.BACK_UP_FIRST: f"run 'strongroom backup {values.get('store')}' first",
        Remedy.LIST_JOBS: "run 'strongroom jobs' to list them",
        Remedy.EDIT_PLAN: f"choose another name, or change it with 'strongroom plan edit {values.get('name')}'",
        Remedy.ADD_PLAN: "add one with 'strongroom plan add'",
        Remedy.BREAK_LOCK: f"if that holder is gone, clear it with 'strongroom locks break {values.get('type')}'",
        Remedy.CLEAR_LOCK_RECORD: f"or clear it with 'strongroom locks break {values.get('type')}'",
        Remedy.LOOK_AT_LOCKS_AGAIN: "look again with 'strongroom locks'",
        Remedy.VERIFY_UNTRUSTED: "verify it with --untrusted to check it anyway",
        Remedy.OTHER_TARGET: "or choose another --target",
        Remedy.CHOOSE_DESTINATION: "give the folder to restore into with --to",
        Remedy.BROWSE_SET: f"run 'strongroom browse {values.get('set')}' to list what it holds",
    }[fix.remedy]


def explained(error: BaseException, words) -> str:
    """The error's message followed by its fix in ``words`` (cli_words or the console's), when it has one."""
    return with_words(str(error), fix_of(error), words)


def with_words(message: str, fix: Fix | None, words) -> str:
    """``message`` (what is wrong) and, when there is a fix, what to do about it in ``words``."""
    if fix is None:
        return message
    said = words(fix)
    return f"{message}, {said}" if said.startswith("or ") else f"{message}: {said}"
