"""The administrator's settings: default target, lock scope, compression level, verify default.

Stored as JSON under the platformdirs config dir (``settings.json``). A missing file means
defaults. A file that cannot be read never stops Strongroom and is never silently lost:
``load_settings`` reports why and uses defaults, and ``save_settings`` first moves the
unreadable file aside as ``settings.json.unreadable`` so the administrator can look at it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .invalid_value import InvalidValue
from .mutex.lockdir import SCOPES
from .notify.config import NotifyError, NotifySettings
from .regular_files import read_regular

MAX_SETTINGS_BYTES = 64 * 1024


class SettingsError(InvalidValue):
    """Settings that cannot be used; the message names the file or the value."""


@dataclass(frozen=True)
class Settings:
    default_target: str = ""  # empty: the data folder's ``backups``
    lock_scope: str = "user"
    compression_level: int = 3
    verify_after_backup: bool = True
    notifications: NotifySettings = NotifySettings()  # where failed scheduled backups are told

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "notifications", NotifySettings.from_document(self.notifications))
        except NotifyError as error:
            raise SettingsError(str(error)) from None
        if self.lock_scope not in SCOPES:
            raise SettingsError(f"lock scope {self.lock_scope!r} is not one of: {', '.join(SCOPES)}")
        if type(self.compression_level) is not int or not 1 <= self.compression_level <= 22:
            raise SettingsError(f"compression level {self.compression_level!r} is out of range: use 1 to 22")
        if not isinstance(self.verify_after_backup, bool):
            raise SettingsError(f"verify after backup must be true or false, not {self.verify_after_backup!r}")
        if not isinstance(self.default_target, str):
            raise SettingsError(f"default target must be a folder path, not {self.default_target!r}")
        if self.default_target and not Path(self.default_target).is_absolute():
            raise SettingsError(f"default target {self.default_target!r} must be an absolute folder path")

    def target(self, fallback: Path) -> Path:
        return Path(self.default_target) if self.default_target else fallback


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    problem: str = ""  # why the file was not used, when it was not


def load_settings(path: Path) -> LoadedSettings:
    """The settings in ``path``; defaults (and the reason) when it is missing or unreadable."""
    try:
        raw = read_regular(path, MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except OSError as error:
        return LoadedSettings(Settings(), f"cannot read the settings {path} ({error.strerror}); using defaults")
    except ValueError as error:
        return LoadedSettings(Settings(), f"the settings {path} are unreadable ({error}); using defaults")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise SettingsError("not a JSON object")
        known = {field.name for field in fields(Settings)}
        return LoadedSettings(Settings(**{key: value for key, value in data.items() if key in known}))
    except RecursionError:
        return LoadedSettings(Settings(), f"the settings {path} are unreadable (nested too deeply); using defaults "
                                          "— saving settings keeps the old file as settings.json.unreadable")
    except (ValueError, TypeError) as error:
        return LoadedSettings(Settings(), f"the settings {path} are unreadable ({error}); using defaults — "
                                          "saving settings keeps the old file as settings.json.unreadable")


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically; an unreadable existing file is kept aside, never overwritten."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and load_settings(path).problem:
            os.replace(path, path.with_name(path.name + ".unreadable"))
        fd, temporary = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({**asdict(settings), "notifications": settings.notifications.document()}, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise SettingsError(f"cannot save the settings to {path} ({error.strerror}): check that folder's "
                            "permissions and free space") from None
