"""The work behind the signed-out requests that may mail a link (password reset, email
verification), done by a job rather than in the request.

Such a request answers the same whether or not the address has an account, and it must take
the same time too: so the request only checks its input and its rate limits and queues one
`auth.account_mail` job, the same job for every address. The job looks the address up and,
for an account, makes the token and queues the mail (`mail.send`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

from everything_app.auth import recovery, verification
from everything_app.core.db import utcnow
from everything_app.core.jobs import JobContext, JobKind

ACCOUNT_MAIL_JOB = "auth.account_mail"


class AccountMailArgs(BaseModel):
    purpose: Literal["reset-password", "verify-email"]
    email: str = Field(max_length=320)  # canonical (auth.service.normalize_email)
    redirect_to: str | None = Field(default=None, max_length=4096)  # already checked


async def run_account_mail(ctx: JobContext, args: AccountMailArgs) -> None:
    settings = ctx.settings
    now = utcnow()
    async with ctx.unit_of_work(write=True) as db:
        if args.purpose == "reset-password":
            request = recovery.ResetRequest(
                email=args.email,
                redirect_to=args.redirect_to,
                auth_url=verification.auth_url(settings),
                ttl=timedelta(seconds=settings.password_reset_token_seconds),
                now=now,
            )
            await recovery.request_reset(db, request)
        else:
            links = verification.links_for(settings, now)
            await verification.request_verification(db, args.email, links, args.redirect_to)


def account_mail_kind() -> JobKind[AccountMailArgs]:
    return JobKind(
        ACCOUNT_MAIL_JOB,
        AccountMailArgs,
        run_account_mail,
        max_attempts=5,
        summary="Look up an address and mail it a reset or verification link if it has an account.",
    )
