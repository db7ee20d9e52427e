"""Where notifications go: e-mail over SMTP and a webhook, and which outcomes are worth one.

They live in the settings file under ``notifications``. The SMTP password never does: the
settings name a file that holds it, which must be a regular file owned by the user running
Strongroom and readable by nobody else (mode 0600 or 0400), and it is read only when a
message is sent.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, fields
from pathlib import Path

from ..invalid_value import InvalidValue

SECURITIES = ("starttls", "tls", "none")
MAX_PASSWORD_BYTES = 4096


class NotifyError(InvalidValue):
    """Notification settings that cannot be used; the message names the field or the file."""


@dataclass(frozen=True)
class EmailSettings:
    server: str = ""  # empty: no e-mail
    port: int = 587
    security: str = "starttls"  # starttls (port 587), tls (465), none (a relay on the same host)
    sender: str = ""
    recipients: tuple[str, ...] = ()
    user: str = ""  # empty: no login
    password_file: str = ""

    def check(self) -> EmailSettings:
        if not self.server:
            return self
        if self.security not in SECURITIES:
            raise NotifyError(f"e-mail security {self.security!r} is not one of: {', '.join(SECURITIES)}")
        if type(self.port) is not int or not 0 < self.port < 65536:
            raise NotifyError(f"e-mail port {self.port!r} is not a port number")
        if "@" not in self.sender or not self.recipients or not all("@" in r for r in self.recipients):
            raise NotifyError("e-mail needs a sender and at least one recipient address")
        if self.user and not self.password_file:
            raise NotifyError("an e-mail user needs a password file (the password is never kept in the settings)")
        return self

    def password(self) -> str:
        """The password from its file, refused when the file is not the user's own and private."""
        path = Path(self.password_file)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            raise NotifyError(f"cannot read the password file {path} ({error.strerror})") from None
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise NotifyError(f"the password file {path} is not a regular file")
            if status.st_uid != os.geteuid():
                raise NotifyError(f"the password file {path} belongs to another user: it must be this user's own")
            if status.st_mode & 0o077:
                raise NotifyError(f"the password file {path} can be read by others (mode "
                                  f"{stat.S_IMODE(status.st_mode):04o}): chmod 600 {path}")
            data = os.read(fd, MAX_PASSWORD_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > MAX_PASSWORD_BYTES:
            raise NotifyError(f"the password file {path} is too large to be a password")
        return data.decode("utf-8", "replace").rstrip("\r\n")


@dataclass(frozen=True)
class WebhookSettings:
    url: str = ""  # empty: no webhook
    timeout: float = 10.0

    def check(self) -> WebhookSettings:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise NotifyError(f"the webhook {self.url!r} is not an http:// or https:// address")
        if type(self.timeout) not in (int, float) or not 0 < self.timeout <= 300:
            raise NotifyError("the webhook timeout must be more than 0 and at most 300 seconds")
        return self


@dataclass(frozen=True)
class NotifySettings:
    email: EmailSettings = EmailSettings()
    webhook: WebhookSettings = WebhookSettings()
    on_warnings: bool = False  # besides failures: runs that succeeded with warnings
    on_success: bool = False  # and runs that succeeded

    @property
    def channels(self) -> list[str]:
        return [name for name, on in (("email", bool(self.email.server)), ("webhook", bool(self.webhook.url))) if on]

    def document(self) -> dict:
        email = {f.name: getattr(self.email, f.name) for f in fields(EmailSettings)}
        email["recipients"] = list(self.email.recipients)
        return {"email": email, "webhook": {"url": self.webhook.url, "timeout": self.webhook.timeout},
                "on_warnings": self.on_warnings, "on_success": self.on_success}

    @classmethod
    def from_document(cls, document: object) -> NotifySettings:
        if isinstance(document, NotifySettings):
            return document
        if not isinstance(document, dict):
            raise NotifyError("the notification settings are not an object")
        try:
            email = dict(document.get("email") or {})
            email["recipients"] = tuple(email.get("recipients") or ())
            settings = cls(EmailSettings(**email).check(), WebhookSettings(**(document.get("webhook") or {})).check(),
                           bool(document.get("on_warnings", False)), bool(document.get("on_success", False)))
        except TypeError as error:
            raise NotifyError(f"the notification settings have an unknown or malformed field ({error})") from None
        return settings
