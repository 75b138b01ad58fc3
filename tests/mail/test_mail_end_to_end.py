"""Mail through the job engine embedded in the app, as in production: the request queues a
`mail.send` job, the engine runs it after the commit, and when the SMTP server refuses or is
down the engine retries it (with backoff) until the server takes the message."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Callable, Sequence

from everything_app.core.changes import Change, ChangeBus
from everything_app.core.jobs import Job
from tests.conftest import AppWith, privileged_db, sign_up, unique_email
from tests.mail.smtp_server import SmtpServer, bodies

FAST_RETRIES = {"jobs_retry_base_seconds": 0.05, "jobs_retry_max_seconds": 0.2}


class JobEvents:
    """The jobs table's change events, as the engine announces them."""

    def __init__(self, bus: ChangeBus) -> None:
        self.seen: list[Change] = []
        self._changed = asyncio.Event()
        bus.listen(self._on_changes)

    def _on_changes(self, changes: Sequence[Change]) -> None:
        self.seen.extend(c for c in changes if c.table == "jobs")
        self._changed.set()

    async def wait(self, predicate: Callable[[Change], bool], seconds: float = 30) -> Change:
        async with asyncio.timeout(seconds):
            while True:
                for change in self.seen:
                    if predicate(change):
                        return change
                self._changed.clear()
                await self._changed.wait()


def _retrying(change: Change) -> bool:
    """A retry has started: the first attempt failed."""
    return change.data.get("status") == "running" and change.data.get("attempts", 0) >= 2


async def test_a_refused_message_is_retried_until_the_server_takes_it(
    app_with: AppWith, smtp: SmtpServer
) -> None:
    running = await app_with(smtp_url=smtp.url, **FAST_RETRIES)
    events = JobEvents(running.app.state.changes)
    smtp.refuse = True
    email_address = unique_email()
    await sign_up(running.client(), email_address)  # queues the verification mail
    retry = await events.wait(_retrying)
    assert smtp.attempts >= 1
    assert smtp.received == []
    smtp.refuse = False
    [got] = await smtp.wait_for(1, seconds=30)
    assert got.rcpt_tos == [email_address]
    assert "/api/auth/verify-email?token=" in bodies(got.message)[0]
    await events.wait(lambda c: c.row_id == retry.row_id and c.data.get("status") == "succeeded")
    async with privileged_db(running.app) as db:
        job = await db.get(Job, retry.row_id)
        assert job is not None
        assert job.kind == "mail.send"
        assert job.status == "succeeded"
        assert job.attempts >= 2
        assert job.args == {}  # the link's token is not kept once the mail is sent


async def test_a_message_waits_for_a_server_that_is_down(
    app_with: AppWith, smtp: SmtpServer
) -> None:
    running = await app_with(smtp_url=smtp.url, smtp_timeout_seconds=5, **FAST_RETRIES)
    events = JobEvents(running.app.state.changes)
    await smtp.stop()
    client = running.client()
    email_address = unique_email()
    await sign_up(client, email_address)
    await events.wait(_retrying)
    await smtp.start()  # back, on the same port
    [got] = await smtp.wait_for(1, seconds=30)
    assert got.rcpt_tos == [email_address]


async def test_without_smtp_a_reset_request_lands_in_the_outbox(app_with: AppWith) -> None:
    running = await app_with()
    events = JobEvents(running.app.state.changes)
    client = running.client()
    email_address = unique_email()
    await sign_up(client, email_address)  # no verification mail: no SMTP configured
    response = await client.post("/api/auth/request-password-reset", json={"email": email_address})
    assert response.status_code == 200
    # Two jobs: the address's lookup (auth.account_mail), then the mail it queued.
    lookup = await events.wait(lambda c: c.data.get("status") == "succeeded")
    done = await events.wait(
        lambda c: c.data.get("status") == "succeeded" and c.row_id != lookup.row_id
    )
    outbox = running.settings.data_dir / "outbox"
    [path] = list(outbox.iterdir())
    assert path.stem == str(done.row_id)  # named by the job's id (the Message-ID)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert message["To"] == email_address
    assert "/api/auth/reset-password/" in bodies(message)[0]
    async with privileged_db(running.app) as db:
        sent = await db.get(Job, done.row_id)
        lookup_job = await db.get(Job, lookup.row_id)
    assert sent is not None
    assert sent.args == {}  # the reset token left with the mail
    assert lookup_job is not None
    assert lookup_job.args != {}  # other kinds keep theirs
