"""Email verification and change of email, as better-auth does them.

The emailed token is better-auth's: an HS256 JWT signed with the server secret, holding
`email` (lower-case), `userId`, and for a change of email `updateTo` and `requestType`
("change-email-verification"), with `iat` and `exp`. Nothing is stored: verifying an email
twice changes nothing, and a change-of-email token stops working once the email it was made
for is no longer the account's (so it is used once).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import service
from everything_app.auth.models import User
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import AppError, BadRequest
from everything_app.mail import send_mail
from everything_app.settings import Settings

ALGORITHMS = ["HS256"]
CHANGE_EMAIL = "change-email-verification"
VERIFY_TEMPLATE = "verify-email"
CHANGE_TEMPLATE = "change-email"


class TokenProblem(AppError):
    """Why a verification link did not work: better-auth's codes, as a redirect's `error`
    when the link names a callbackURL, else a 401 (its answer)."""

    status_code = 401


def _problem(code: str, message: str) -> TokenProblem:
    return TokenProblem(message, code=code)


def invalid_token() -> TokenProblem:
    return _problem("invalid_token", "Invalid token")


class EmailMismatch(BadRequest):
    code = "email_mismatch"
    message = "Email mismatch"


class EmailAlreadyVerified(BadRequest):
    code = "email_already_verified"
    message = "Email is already verified"


class EmailIsTheSame(BadRequest):
    code = "email_is_the_same"
    message = "Email is the same"


@dataclass(frozen=True)
class Links:
    """What a mailed link needs: the auth routes' absolute base, the token's lifetime, the
    server secret, and the instant it is made."""

    auth_url: str
    secret: str
    ttl: timedelta
    now: datetime

    def token(self, claims: Mapping[str, Any]) -> str:
        issued = int(self.now.timestamp())
        payload = {**claims, "iat": issued, "exp": issued + int(self.ttl.total_seconds())}
        # better-auth signs with jose's SignJWT: header {"alg": "HS256"}, no "typ".
        return jwt.encode({"alg": "HS256"}, payload, _key(self.secret), default_type=None)

    def verify_url(self, token: str, callback_url: str | None) -> str:
        return (
            f"{self.auth_url}/verify-email?token={token}"
            f"&callbackURL={quote(callback_url or '/', safe='')}"
        )


def auth_url(settings: Settings) -> str:
    """The auth routes' absolute base, as links in mail name them."""
    return f"{settings.base_url}/api/auth"


def links_for(settings: Settings, now: datetime) -> Links:
    return Links(
        auth_url=auth_url(settings),
        secret=settings.secret,
        ttl=timedelta(seconds=settings.email_verification_token_seconds),
        now=now,
    )


def _key(secret: str) -> OctKey:
    return OctKey.import_key(secret.encode())


def read_token(secret: str, token: str, now: datetime) -> dict[str, Any]:
    """The token's claims if it is ours and unexpired; else TokenProblem (TOKEN_EXPIRED or
    INVALID_TOKEN). Only HS256 is accepted (never `none`, never another algorithm)."""
    try:
        claims = jwt.decode(token, _key(secret), algorithms=ALGORITHMS).claims
        jwt.JWTClaimsRegistry(now=int(now.timestamp()), exp={"essential": True}).validate(claims)
    except ExpiredTokenError:
        raise _problem("token_expired", "Token expired") from None
    except (JoseError, ValueError, TypeError):
        raise invalid_token() from None
    if not isinstance(claims.get("email"), str):
        raise invalid_token()
    for name in ("updateTo", "userId", "requestType"):
        if name in claims and not isinstance(claims[name], str):
            raise invalid_token()
    return claims


async def send_verification(
    db: AsyncSession, user: User, links: Links, callback_url: str | None
) -> None:
    """Mail `user` a link that verifies their current email."""
    # The mail job is the user's: the unit of work acts for them (row-level security), as
    # it does not yet on sign-up, or on a sign-in refused for an unverified email.
    await service.act_as(db, user)
    token = links.token({"email": user.email.lower(), "userId": str(user.id)})
    await send_mail(
        db,
        user.email,
        VERIFY_TEMPLATE,
        {"name": user.name, "url": links.verify_url(token, callback_url)},
        user_id=user.id,
    )


async def request_verification(
    db: AsyncSession, email: str | None, links: Links, callback_url: str | None
) -> None:
    """Without a session (better-auth's path): mail a link if `email` has an account that is
    not verified yet (a job's work: auth.mail_jobs)."""
    user = await service.get_user_by_email(db, email) if email else None
    if user is None or user.email_verified:
        return
    await send_verification(db, user, links, callback_url)


async def resend_for_session(
    db: AsyncSession, account: User, email: str | None, links: Links, callback_url: str | None
) -> None:
    """With a session: the address must be the caller's own and not verified yet."""
    user = await db.get(User, account.id)
    if user is None or email != user.email:
        raise EmailMismatch()
    if user.email_verified:
        raise EmailAlreadyVerified()
    await send_verification(db, user, links, callback_url)


async def verify(db: AsyncSession, claims: Mapping[str, Any], caller: uuid.UUID | None) -> User:
    """Apply a verified token: mark the email verified, or (a change of email) switch the
    account to the new address, verified. TokenProblem when it no longer applies."""
    if claims.get("updateTo"):
        return await _change_email(db, claims, caller)
    user = await service.get_user_by_email(db, str(claims["email"]))
    if user is None:
        raise _problem("user_not_found", "User not found")
    if claims.get("userId") and claims["userId"] != str(user.id):
        raise invalid_token()
    if not user.email_verified:
        await service.act_as(db, user)
        user.email_verified = True
        user.updated_at = utcnow()
        await db.flush()
        record_change(db, Change("users", "update", user.id, user.id))
    return user


async def _change_email(
    db: AsyncSession, claims: Mapping[str, Any], caller: uuid.UUID | None
) -> User:
    if claims.get("requestType") != CHANGE_EMAIL or not claims.get("userId"):
        raise invalid_token()
    try:
        user_id = uuid.UUID(str(claims["userId"]))
        new_email = service.normalize_email(str(claims["updateTo"]))
    except (ValueError, BadRequest):
        raise invalid_token() from None
    user = await db.get(User, user_id)
    if user is None:
        raise _problem("user_not_found", "User not found")
    if user.email != str(claims["email"]).lower():
        raise invalid_token()  # already used, or the account's email changed since
    if caller is not None and caller != user.id:
        raise _problem("invalid_user", "Invalid user")
    await service.act_as(db, user)
    try:
        async with db.begin_nested():
            await db.execute(
                update(User)
                .where(User.id == user.id)
                .values(email=new_email, email_verified=True, updated_at=utcnow())
            )
    except IntegrityError:  # another account took the address meanwhile
        raise _problem(
            "user_already_exists_use_another_email", "User already exists. Use another email."
        ) from None
    await db.refresh(user)
    record_change(db, Change("users", "update", user.id, user.id))
    return user


async def request_change(
    db: AsyncSession, account: User, new_email: str, links: Links, callback_url: str | None
) -> None:
    """Mail the new address a link that moves the account to it. If another account has the
    address already, nothing is sent and the answer is the same (no enumeration)."""
    user = await db.get(User, account.id)
    if user is None:  # pragma: no cover - the caller's session cascades with the account
        raise invalid_token()
    if new_email == user.email:
        raise EmailIsTheSame()
    claims = {
        "email": user.email.lower(),
        "updateTo": new_email,
        "userId": str(user.id),
        "requestType": CHANGE_EMAIL,
    }
    token = links.token(claims)
    if await service.get_user_by_email(db, new_email) is not None:
        return
    await send_mail(
        db,
        new_email,
        CHANGE_TEMPLATE,
        {
            "name": user.name,
            "url": links.verify_url(token, callback_url),
            "new_email": new_email,
        },
        user_id=user.id,
    )
