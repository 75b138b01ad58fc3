"""better-auth's endpoints that mail a link: password reset, email verification, change of
email. Every redirect target (`redirectTo`, `callbackURL`) is held to the trusted origins as
sign-in's `callbackURL` is: an untrusted one is refused with 403, never followed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import recovery, service, verification
from everything_app.auth.deps import CurrentUser, OptionalPrincipal, refuse_foreign_sign_in
from everything_app.auth.mail_jobs import ACCOUNT_MAIL_JOB, AccountMailArgs
from everything_app.auth.routes import _callback, user_json
from everything_app.core.clock import current_time
from everything_app.core.db import SessionDep, unit_of_work
from everything_app.core.deps import ClientIP, LimiterDep, SettingsDep, app_settings
from everything_app.core.errors import BadRequest
from everything_app.core.jobs import enqueue
from everything_app.core.ratelimit import RateLimiter
from everything_app.core.routers import PUBLIC
from everything_app.core.validation import Input
from everything_app.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])

Now = Annotated[datetime, Depends(current_time)]


async def _refuse_foreign_page(request: Request) -> None:
    """These run signed out, so no session cookie brings the CSRF check: a sent Origin
    must be trusted, as on sign-in (a foreign page can not start or finish a reset in
    someone's browser); scripts, which send none, are not affected."""
    refuse_foreign_sign_in(request, app_settings(request))


SAME_SITE = Depends(_refuse_foreign_page)


async def _writing_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A GET that writes (the verification link): its unit of work takes SQLite's write
    lock up front, as every POST's does (core.db), so a writer committing between its read
    and its write cannot make it fail with SQLITE_BUSY."""
    state = request.app.state
    async with unit_of_work(
        state.sessionmaker, write=True, bus=getattr(state, "changes", None)
    ) as session:
        yield session


WritingSession = Annotated[AsyncSession, Depends(_writing_session, scope="function")]
MAX_TOKEN = 4096  # a verification JWT is a few hundred characters, a reset token 43


class ResetRequestBody(Input):
    email: str = Field(max_length=1000)
    redirectTo: str | None = Field(default=None, max_length=4096)  # noqa: N815


class ResetPasswordBody(Input):
    newPassword: str = Field(max_length=10_000)  # noqa: N815
    token: str | None = Field(default=None, max_length=MAX_TOKEN)


class SendVerificationBody(Input):
    email: str = Field(max_length=1000)
    callbackURL: str | None = Field(default=None, max_length=4096)  # noqa: N815


class ChangeEmailBody(Input):
    newEmail: str = Field(max_length=1000)  # noqa: N815
    callbackURL: str | None = Field(default=None, max_length=4096)  # noqa: N815


def _with_query(url: str, settings: Settings, **params: str) -> str:
    """A checked redirect target (absolute, or a path from the root) made absolute on the
    server's origin, with `params` set in its query (its fragment kept last)."""
    if url.startswith("/"):
        url = settings.base_origin + url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302)


async def _mail_limits(limiter: RateLimiter, settings: Settings, ip: str, email_key: str) -> None:
    """Requests that mail a link: per IP and per address (known or not, so the limit says
    nothing about whether an account exists)."""
    await limiter.hit(settings.rate_limit_account_mail_ip, "account-mail-ip", ip)
    await limiter.hit(settings.rate_limit_account_mail_email, "account-mail-email", email_key)


@router.post("/request-password-reset", dependencies=[PUBLIC, SAME_SITE])
@router.post("/forget-password", dependencies=[PUBLIC, SAME_SITE])
async def request_password_reset(
    body: ResetRequestBody,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> dict[str, Any]:
    """Mail a password-reset link if the email has an account. The answer, and the work
    done in the request, are the same either way. `/forget-password` is the older name."""
    redirect_to = _callback(body.redirectTo, settings)
    email, email_key = service.sign_in_key(body.email)
    if email is None:
        raise BadRequest("Invalid email", code="invalid_email")
    await _mail_limits(limiter, settings, ip, email_key)
    # The same work for every address: one job, which looks the address up (auth.mail_jobs).
    args = AccountMailArgs(purpose="reset-password", email=email, redirect_to=redirect_to)
    await enqueue(db, ACCOUNT_MAIL_JOB, args, user_id=None)
    return {"status": True, "message": recovery.RESET_MESSAGE}


@router.get("/reset-password/{token}", dependencies=[PUBLIC], response_class=RedirectResponse)
async def reset_password_link(
    token: Annotated[str, Path(max_length=MAX_TOKEN)],
    db: SessionDep,
    settings: SettingsDep,
    now: Now,
    callbackURL: Annotated[str, Query(max_length=4096)],  # noqa: N803
) -> RedirectResponse:
    """The emailed link: redirects to `callbackURL` with `?token=` when the token is good,
    else with `?error=INVALID_TOKEN`."""
    target = _callback(callbackURL, settings)
    assert target is not None
    if await recovery.token_is_valid(db, token, now):
        return _redirect(_with_query(target, settings, token=token))
    return _redirect(_with_query(target, settings, error="INVALID_TOKEN"))


@router.post("/reset-password", dependencies=[PUBLIC, SAME_SITE])
async def reset_password(
    body: ResetPasswordBody,
    db: SessionDep,
    now: Now,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN)] = None,
) -> dict[str, bool]:
    """Set a new password with the emailed token (once). Every session of the account ends,
    and its live connections close."""
    value = body.token or token
    if not value:
        service.check_password_policy(body.newPassword)
        raise recovery.InvalidToken()
    await recovery.reset_password(db, value, body.newPassword, now)
    return {"status": True}


@router.post("/send-verification-email", dependencies=[PUBLIC])
async def send_verification_email(
    body: SendVerificationBody,
    principal: OptionalPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
    now: Now,
) -> dict[str, bool]:
    """Mail a verification link. Signed in: for your own, unverified email. Signed out: the
    same answer whether the email has an account or not."""
    callback = _callback(body.callbackURL, settings)
    email, email_key = service.sign_in_key(body.email)
    if email is None:
        raise BadRequest("Invalid email", code="invalid_email")
    await _mail_limits(limiter, settings, ip, email_key)
    links = verification.links_for(settings, now)
    if principal is not None:
        await verification.resend_for_session(db, principal.user, email, links, callback)
    else:  # the same work for every address, as for a reset request
        args = AccountMailArgs(purpose="verify-email", email=email, redirect_to=callback)
        await enqueue(db, ACCOUNT_MAIL_JOB, args, user_id=None)
    return {"status": True}


@router.get("/verify-email", dependencies=[PUBLIC])
async def verify_email(
    db: WritingSession,
    settings: SettingsDep,
    now: Now,
    token: Annotated[str, Query(max_length=MAX_TOKEN)],
    callbackURL: Annotated[str | None, Query(max_length=4096)] = None,  # noqa: N803
) -> Response:
    """The emailed verification link: marks the email verified (or, for a change of email,
    moves the account to the new address), then redirects to `callbackURL` (with
    `?error=<CODE>` when the link is expired or invalid), or answers JSON without one."""
    target = _callback(callbackURL, settings)
    try:
        claims = verification.read_token(settings.secret, token, now)
        user = await verification.verify(db, claims, None)
    except verification.TokenProblem as problem:
        if target is None:
            raise
        return _redirect(_with_query(target, settings, error=problem.code.upper()))
    if target is not None:
        return _redirect(_with_query(target, settings))
    changed = bool(claims.get("updateTo"))
    return JSONResponse({"status": True, "user": user_json(user) if changed else None})


@router.post("/change-email")
async def change_email(
    body: ChangeEmailBody,
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
    now: Now,
) -> dict[str, bool]:
    """Change your email: a link is mailed to the new address, and the change happens when
    it is opened (the new address is then verified)."""
    callback = _callback(body.callbackURL, settings)
    new_email = service.normalize_email(body.newEmail)
    await _mail_limits(limiter, settings, ip, str(user.id))
    links = verification.links_for(settings, now)
    await verification.request_change(db, user, new_email, links, callback)
    return {"status": True}
