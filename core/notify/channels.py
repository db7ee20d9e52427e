"""Sending one notice: an e-mail over SMTP (STARTTLS, TLS or plain), or a JSON POST to a webhook.

Each send has a timeout and raises ChannelError with a one-line reason; it never logs the
password (smtplib's debug output stays off, and errors carry only the server's reply).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage

from .config import EmailSettings, WebhookSettings
from .notice import Notice

SMTP_TIMEOUT = 30.0


class ChannelError(Exception):
    """A notice that could not be delivered through one channel."""


def send_email(settings: EmailSettings, notice: Notice, context: ssl.SSLContext | None = None) -> str:
    """Send ``notice``; a line saying where it went."""
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(notice.text())
    context = context or ssl.create_default_context()
    where = f"{settings.server}:{settings.port}"
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.server, settings.port, timeout=SMTP_TIMEOUT,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.server, settings.port, timeout=SMTP_TIMEOUT)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.user:
                client.login(settings.user, settings.password())
            refused = client.send_message(message)
    except smtplib.SMTPResponseException as error:
        raise ChannelError(f"the mail server {where} refused it: {error.smtp_code} {_text(error.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as error:
        replies = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in error.recipients.items())
        raise ChannelError(f"the mail server {where} refused every recipient ({replies})") from None
    except (smtplib.SMTPException, OSError, ValueError) as error:
        raise ChannelError(f"e-mail through {where} failed: {error}") from None
    delivered = [address for address in settings.recipients if address not in refused]
    return f"sent to {', '.join(delivered)} through {where} ({settings.security})"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def send_webhook(settings: WebhookSettings, notice: Notice) -> str:
    body = json.dumps(notice.document()).encode()
    request = urllib.request.Request(settings.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "strongroom"})
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # noqa: S310 - the admin's URL
            status = response.status
    except urllib.error.HTTPError as error:
        raise ChannelError(f"the webhook {settings.url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ChannelError(f"the webhook {settings.url} could not be reached: {getattr(error, 'reason', error)}") \
            from None
    return f"posted to {settings.url} (HTTP {status})"
