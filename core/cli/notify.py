"""``strongroom notify show|test|email|webhook|when``: where failed scheduled backups are told."""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..notify.config import EmailSettings, NotifySettings, WebhookSettings
from ..notify.notifier import Notifier
from ..paths import StrongroomPaths
from ..settings import load_settings, save_settings
from .usage import UsageError, positive_seconds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("notify", help="e-mail and webhook notices of failed scheduled backups",
                                 description="Where the agent (or the console) tells of scheduled plan runs that "
                                             "failed, and if asked, of those with warnings or that succeeded.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("show", help="the notification settings").set_defaults(handler=show)
    actions.add_parser("test", help="send a test message through each channel and say how each went") \
        .set_defaults(handler=test)
    email = actions.add_parser("email", help="send notices by e-mail (SMTP)")
    email.add_argument("--server", required=True, metavar="HOST")
    email.add_argument("--port", type=int, metavar="N", help="default 587 (starttls), 465 (tls), 25 (none)")
    email.add_argument("--security", choices=("starttls", "tls", "none"), default="starttls")
    email.add_argument("--from", dest="sender", required=True, metavar="ADDRESS")
    email.add_argument("--to", dest="recipients", action="append", required=True, metavar="ADDRESS")
    email.add_argument("--user", default="", metavar="NAME", help="log in as NAME")
    email.add_argument("--password-file", default="", metavar="FILE",
                       help="a file holding the password, mode 0600, owned by you (never kept in the settings)")
    email.set_defaults(handler=set_email)
    webhook = actions.add_parser("webhook", help="POST a JSON summary to an address")
    webhook.add_argument("url", metavar="URL")
    webhook.add_argument("--timeout", type=positive_seconds, default=10.0, metavar="S")
    webhook.set_defaults(handler=set_webhook)
    off = actions.add_parser("off", help="stop a channel")
    off.add_argument("channel", choices=("email", "webhook"))
    off.set_defaults(handler=turn_off)
    when = actions.add_parser("when", help="which outcomes are told (failures always)")
    when.add_argument("--warnings", action="store_true", help="also runs that succeeded with warnings")
    when.add_argument("--success", action="store_true", help="also runs that succeeded")
    when.set_defaults(handler=set_when)


def _change(paths: StrongroomPaths, **changes) -> NotifySettings:
    loaded = load_settings(paths.settings)
    if loaded.problem:
        raise UsageError(f"{loaded.problem}; fix the settings file before changing notifications")
    notifications = replace(loaded.settings.notifications, **changes)
    save_settings(paths.settings, replace(loaded.settings, notifications=notifications))
    return notifications


def show(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    settings = load_settings(paths.settings).settings.notifications
    email, hook = settings.email, settings.webhook
    if email.server:
        recipients = ", ".join(email.recipients)
        print(f"e-mail: {email.sender} -> {recipients} through {email.server}:{email.port} ({email.security})"
              + (f", as {email.user} (password in {email.password_file})" if email.user else ""))
    else:
        print("e-mail: off")
    print(f"webhook: {hook.url or 'off'}")
    told = ["failures"] + (["warnings"] if settings.on_warnings else []) + (["successes"] if settings.on_success else [])
    print(f"told: {', '.join(told)} of scheduled plan runs")
    return 0


def set_email(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    port = args.port or {"starttls": 587, "tls": 465, "none": 25}[args.security]
    email = EmailSettings(args.server, port, args.security, args.sender, tuple(args.recipients), args.user,
                          args.password_file).check()
    if email.user:
        email.password()  # refused now, not at night, when the file is not private
    _change(paths, email=email)
    print(f"e-mail notices go to {', '.join(email.recipients)} through {email.server}:{email.port}; "
          "'strongroom notify test' sends one now")
    return 0


def set_webhook(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    _change(paths, webhook=WebhookSettings(args.url, args.timeout).check())
    print(f"webhook notices go to {args.url}; 'strongroom notify test' sends one now")
    return 0


def turn_off(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    _change(paths, **({"email": EmailSettings()} if args.channel == "email" else {"webhook": WebhookSettings()}))
    print(f"{args.channel} notices are off")
    return 0


def set_when(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    _change(paths, on_warnings=args.warnings or args.success, on_success=args.success)
    return show(args, paths)


def test(args: argparse.Namespace, paths: StrongroomPaths) -> int:
    settings = load_settings(paths.settings).settings.notifications
    results = Notifier(settings, lambda line: None).test()
    if not results:
        print("no channel is set: 'strongroom notify email ...' or 'strongroom notify webhook URL'")
        return 1
    for channel, delivered, what in results:
        print(f"{channel}: {'ok' if delivered else 'FAILED'} — {what}")
    return 0 if all(delivered for _, delivered, _ in results) else 1
