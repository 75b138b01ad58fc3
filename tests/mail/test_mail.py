"""Mail: templates rendered to text and HTML, sent by the `mail.send` job over SMTP to a real
server (aiosmtpd) started by the test, retried when the server refuses or is down, and
written to the outbox in DATA_DIR when no SMTP server is configured."""

from __future__ import annotations

import email
import email.policy
import os
import stat
import uuid

import aiosmtplib
import pytest
from pydantic import ValidationError

from everything_app.core.jobs import JobFailed, JobKinds
from everything_app.mail import MAIL_JOB, MailArgs, send_mail_job
from everything_app.mail.transport import smtp_target
from everything_app.settings import Settings
from tests.conftest import AppWith, Running
from tests.job_context import RecordingJobContext
from tests.mail.smtp_server import SMTP_USER, SmtpServer, bodies

LINK = "http://testserver/api/auth/reset-password/abc?callbackURL=%2Freset"
ARGS = MailArgs(
    to="ada@example.com",
    template="reset-password",
    context={"name": "Ada <b>Lovelace</b>", "url": LINK},
)


async def _run(running: Running, args: MailArgs = ARGS, attempt: int = 1) -> object:
    ctx = RecordingJobContext(running.app, None, attempt=attempt)
    return await send_mail_job(ctx, args)


async def test_the_kind_is_registered(app_with: AppWith) -> None:
    running = await app_with()
    kind = running.app.state.registry[JobKinds].get(MAIL_JOB)
    assert kind is not None
    assert kind.args is MailArgs
    assert not kind.action


async def test_a_message_reaches_a_real_smtp_server(app_with: AppWith, smtp: SmtpServer) -> None:
    running = await app_with(smtp_url=smtp.url, mail_from="Everything <robot@example.org>")
    ctx = RecordingJobContext(running.app, None)
    result = await send_mail_job(ctx, ARGS)
    [got] = await smtp.wait_for(1)
    assert got.login == SMTP_USER  # authenticated with SMTP_URL's user and password
    assert got.rcpt_tos == ["ada@example.com"]
    assert got.mail_from == "robot@example.org"
    message = got.message
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Everything <robot@example.org>"
    assert message["Subject"] == "Reset your Everything-App password"
    assert message["Message-ID"] == f"<{ctx.job_id}@example.org>"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = bodies(message)
    assert LINK in text
    assert "Ada <b>Lovelace</b>" in text  # plain text is not escaped
    assert f'href="{LINK}"' in html
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html  # HTML is autoescaped
    assert isinstance(result, dict)
    assert result["message_id"] == message["Message-ID"]


async def test_a_refusing_server_fails_the_job_and_the_retry_delivers(
    app_with: AppWith, smtp: SmtpServer
) -> None:
    running = await app_with(smtp_url=smtp.url)
    smtp.refuse = True
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await _run(running)
    assert refused.value.code == 554
    assert smtp.received == []
    smtp.refuse = False  # the server accepts again: the engine's retry delivers
    await _run(running, attempt=2)
    [got] = await smtp.wait_for(1)
    assert LINK in bodies(got.message)[0]
    assert smtp.attempts == 2


async def test_a_server_that_is_down_fails_the_job_and_the_retry_delivers(
    app_with: AppWith, smtp: SmtpServer
) -> None:
    running = await app_with(smtp_url=smtp.url, smtp_timeout_seconds=5)
    await smtp.stop()
    with pytest.raises(aiosmtplib.SMTPException):
        await _run(running)
    await smtp.start()  # back on the same port
    await _run(running, attempt=2)
    [got] = await smtp.wait_for(1)
    assert got.rcpt_tos == ["ada@example.com"]


async def test_starttls_required_but_not_offered_fails(app_with: AppWith, smtp: SmtpServer) -> None:
    running = await app_with(smtp_url=smtp.url + "?starttls=true")
    with pytest.raises(aiosmtplib.SMTPException, match="STARTTLS"):
        await _run(running)
    assert smtp.received == []


async def test_wrong_credentials_fail_the_job(app_with: AppWith, smtp: SmtpServer) -> None:
    running = await app_with(smtp_url=f"smtp://mailer:wrong@127.0.0.1:{smtp.port}")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await _run(running)
    assert smtp.received == []


async def test_without_smtp_the_message_is_written_to_the_outbox(
    app_with: AppWith, capsys: pytest.CaptureFixture[str]
) -> None:
    running = await app_with()
    assert running.settings.smtp_url is None
    result = await _run(running)
    outbox = running.settings.data_dir / "outbox"
    [path] = list(outbox.iterdir())
    assert path.suffix == ".eml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"] == "ada@example.com"
    assert LINK in bodies(message)[0]
    assert isinstance(result, dict)
    assert result["delivered"] == str(path)
    assert str(path) in capsys.readouterr().err  # the log says where it is
    # The same job run again (at-least-once delivery) leaves one file.
    ctx = RecordingJobContext(running.app, None, job_id=uuid.UUID(path.stem), attempt=2)
    await send_mail_job(ctx, ARGS)
    assert [p.name for p in outbox.iterdir()] == [path.name]
    assert not any(name.startswith(".") for name in os.listdir(outbox))


async def test_an_unknown_template_or_missing_variable_fails_at_once(app_with: AppWith) -> None:
    running = await app_with()
    with pytest.raises(JobFailed):
        await _run(running, MailArgs(to="a@example.com", template="nope", context={}))
    with pytest.raises(JobFailed):
        await _run(running, MailArgs(to="a@example.com", template="verify-email", context={}))


def test_smtp_url_forms() -> None:
    target = smtp_target("smtp://us%40er:p%3Ass@mail.example:2525")
    assert (target.hostname, target.port, target.username, target.password) == (
        "mail.example",
        2525,
        "us@er",
        "p:ss",
    )
    assert target.start_tls is None
    assert not target.use_tls
    assert smtp_target("smtp://h?starttls=true").start_tls is True
    assert smtp_target("smtp://h?starttls=false").start_tls is False
    secure = smtp_target("smtps://h")
    assert secure.use_tls
    assert secure.port == 465
    assert secure.start_tls is False
    assert smtp_target("smtp://h").port == 587


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "smtp://",
        "smtp://h:99999",
        "smtp://h?starttls=maybe",
        "smtps://h?starttls=true",
    ],
)
def test_bad_smtp_urls_are_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(smtp_url=url)
