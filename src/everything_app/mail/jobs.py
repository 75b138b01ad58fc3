"""The `mail.send` job: render one message and hand it to SMTP (or the outbox).

Any failure raises, so the job engine retries with backoff: the server down, slow, or
answering 4xx/5xx. The message is rendered again on each attempt from the job's arguments,
and keeps one Message-ID (the job's id), so a retry after a lost answer is recognisable as
the same message.
"""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import BaseModel, Field

from everything_app.core.jobs import JobContext, JobFailed, JobKind
from everything_app.core.logging import get_logger
from everything_app.mail.render import UnknownTemplate, render
from everything_app.mail.transport import deliver

log = get_logger(__name__)
MAIL_JOB = "mail.send"


class MailArgs(BaseModel):
    to: str = Field(max_length=320)
    template: str = Field(max_length=100)
    context: dict[str, str] = Field(default_factory=dict)


def _domain(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


async def send_mail_job(ctx: JobContext, args: MailArgs) -> dict[str, str]:
    settings = ctx.settings
    try:
        message = render(
            args.template,
            args.context,
            sender=settings.mail_from,
            to=args.to,
            message_id=f"<{ctx.job_id}@{_domain(settings.mail_from)}>",
        )
    except (UnknownTemplate, ValueError) as exc:  # no retry makes a bad message good
        raise JobFailed(str(exc)) from exc
    try:
        where = await deliver(settings, message)
    except Exception as exc:
        log.warning(
            "mail_send_failed",
            template=args.template,
            attempt=ctx.attempt,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    if settings.smtp_url is None:
        # No SMTP server configured: say where the message is, so a developer can open it.
        log.warning("mail_written_to_outbox", path=where, template=args.template, to=args.to)
    else:
        log.info("mail_sent", via=where, template=args.template, attempt=ctx.attempt)
    return {"delivered": where, "message_id": str(message["Message-ID"])}


def mail_kind() -> JobKind[MailArgs]:
    return JobKind(
        MAIL_JOB,
        MailArgs,
        send_mail_job,
        max_attempts=10,
        secret_args=True,  # reset and verification links carry their tokens
        summary="Send one message (rendered from a template) over SMTP, or to the outbox.",
    )
