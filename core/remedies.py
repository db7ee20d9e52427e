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
