"""Notifications against real servers started here: aiosmtpd on 127.0.0.1 (STARTTLS with a throwaway
certificate and a login, plain, and one that refuses), and a local HTTP server for the webhook."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from strongroom.core.jobs import JobState
from strongroom.core.notify.config import EmailSettings, NotifySettings, WebhookSettings
from strongroom.core.notify.notifier import Notifier, worth_telling
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import PlanBook, Trigger
from strongroom.core.plans.plan_run import PlanRunner

from .conftest import cli
from .trees import make_tree

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult  # noqa: E402

PASSWORD = "s3cret-never-logged"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[bytes] = []
        self.arrived = threading.Event()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd naming)
        if self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd naming)
        self.messages.append(envelope.content)
        self.arrived.set()
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-subj", "/CN=127.0.0.1", "-days", "1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def start_server(inbox: Inbox, certificate=None):
    import ssl

    port = free_port()
    options = {}
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))

        def authenticate(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=(auth_data.login, auth_data.password) == (b"backup", PASSWORD.encode()))

        options = {"tls_context": context, "require_starttls": True, "auth_require_tls": True,
                   "authenticator": authenticate}
    controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    return controller, port


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "smtp-password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def failing_plan(engine, tmp_path):
    tree = make_tree(tmp_path / "gone", {"a.txt": "a"})
    engine.add_store("docs", "folder", str(tree))
    book = PlanBook(engine.catalog)
    plan = book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30"))
    tree.rename(tmp_path / "moved")  # the store path is missing at night: the job fails
    return book, plan


def test_a_failed_scheduled_run_is_mailed_over_starttls_with_the_password_from_its_private_file(
        engine, failing_plan, certificate, password_file, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the throwaway certificate is trusted here only
    inbox = Inbox()
    controller, port = start_server(inbox, certificate)
    try:
        book, plan = failing_plan
        settings = NotifySettings(EmailSettings("127.0.0.1", port, "starttls", "strongroom@example.org",
                                                ("admin@example.org",), "backup", str(password_file)))
        lines: list[str] = []
        notifier = Notifier(settings, lines.append, backoff=(0.1,))
        outcome = PlanRunner(engine, book, plan, Trigger.SCHEDULE, log=lines.append, notifier=notifier).run()
        assert outcome.state == JobState.FAILED
        assert inbox.arrived.wait(30), lines
        for thread in notifier.threads:
            thread.join(30)
    finally:
        controller.stop()
    text = inbox.messages[0].decode()
    assert "Subject: Strongroom on " in text and "plan nightly failed" in text
    assert "docs: failed" in text and "the store path" in text and "strongroom jobs --log backup-" in text
    assert any("notification by email: sent to admin@example.org through 127.0.0.1" in line for line in lines)
    assert not any(PASSWORD in line for line in lines)


def test_a_refusing_server_is_retried_then_given_up_and_the_backup_is_untouched(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "docs", {"a.txt": "a"})
    engine.add_store("docs", "folder", str(tree))
    book = PlanBook(engine.catalog)
    plan = book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30"))
    inbox = Inbox(refuse=True)
    controller, port = start_server(inbox)
    try:
        settings = NotifySettings(EmailSettings("127.0.0.1", port, "none", "s@example.org", ("a@example.org",)),
                                  on_success=True)
        lines: list[str] = []
        notifier = Notifier(settings, lines.append, backoff=(0.05, 0.05))
        outcome = PlanRunner(engine, book, plan, Trigger.SCHEDULE, log=lines.append, notifier=notifier).run()
        for thread in notifier.threads:
            thread.join(30)
    finally:
        controller.stop()
    assert outcome.state == JobState.SUCCEEDED and outcome.jobs[0].set_id
    failures = [line for line in lines if "notification by email failed" in line]
    assert len(failures) == 3 and "550 5.1.1 no such mailbox here" in failures[0]
    assert failures[0].endswith("trying again in 0.05 s") and failures[-1].endswith("giving up")
    assert inbox.messages == []


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    Hook.received, Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/strongroom", server
    server.shutdown()
    thread.join(10)


def test_the_webhook_gets_a_json_summary_of_the_run_and_a_server_error_is_retried(engine, failing_plan, webhook) -> None:
    url, _ = webhook
    book, plan = failing_plan
    Hook.status = 500
    lines: list[str] = []
    notifier = Notifier(NotifySettings(webhook=WebhookSettings(url)), lines.append, backoff=(0.05,))
    PlanRunner(engine, book, plan, Trigger.CATCH_UP, notifier=notifier).run()
    for thread in notifier.threads:
        thread.join(30)
    assert len(Hook.received) == 2  # the first answer was a 500: tried again
    assert any("answered 500" in line for line in lines)
    document = Hook.received[0]
    assert (document["event"], document["plan"], document["trigger"], document["result"]) == (
        "plan-run", "nightly", "catch-up", "failed")
    assert document["jobs"][0]["store"] == "docs" and "the store path" in document["jobs"][0]["error"]


def test_a_run_started_by_hand_is_not_told_and_success_only_when_asked() -> None:
    quiet = NotifySettings()
    assert worth_telling(quiet, "failed") and worth_telling(quiet, "cancelled")
    assert not worth_telling(quiet, "succeeded") and not worth_telling(quiet, "succeeded-with-warnings")
    assert worth_telling(NotifySettings(on_warnings=True), "succeeded-with-warnings")
    assert worth_telling(NotifySettings(on_success=True), "succeeded")


def test_notify_test_reports_each_channel_and_settings_keep_no_password(
        home, certificate, password_file, webhook) -> None:
    url, _ = webhook
    inbox = Inbox()
    controller, port = start_server(inbox, certificate)
    try:
        configured = cli(home, "notify", "email", "--server", "127.0.0.1", "--port", str(port), "--from",
                         "s@example.org", "--to", "a@example.org", "--user", "backup", "--password-file",
                         str(password_file))
        assert configured.returncode == 0, configured.stderr
        assert cli(home, "notify", "webhook", url).returncode == 0
        result = cli(home, "notify", "test", env={**os.environ, "SSL_CERT_FILE": str(certificate[0])})
    finally:
        controller.stop()
    assert result.returncode == 0, result.stdout
    assert "email: ok — sent to a@example.org through 127.0.0.1" in result.stdout
    assert "webhook: ok — posted to " in result.stdout
    assert inbox.messages and "a test message" in inbox.messages[0].decode()
    assert Hook.received[0]["event"] == "test"
    assert PASSWORD not in (home / "settings.json").read_text()
    untrusted = cli(home, "notify", "test")  # without the throwaway certificate: STARTTLS is refused, said so
    assert untrusted.returncode == 1 and "email: FAILED" in untrusted.stdout and "webhook: ok" in untrusted.stdout


def test_a_password_file_others_can_read_is_refused_when_set(home, password_file) -> None:
    password_file.chmod(0o644)
    result = cli(home, "notify", "email", "--server", "127.0.0.1", "--from", "s@example.org", "--to",
                 "a@example.org", "--user", "backup", "--password-file", str(password_file))
    assert result.returncode == 1
    assert f"the password file {password_file} can be read by others (mode 0644): chmod 600" in result.stderr
