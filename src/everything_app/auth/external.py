"""Local users for identities verified elsewhere: an external issuer's subject (bearer JWTs)
and a social provider's account. Shared rules, in one place:

- an identity is linked to one user for good (a link table), found by (issuer, subject) or
  (provider, account id), never by email alone;
- a new identity becomes a new user; its email is the one the provider gives only when the
  provider says it is verified;
- an email that already belongs to a user is never used to take that account over. Only
  social sign-in, with a verified email, links to an existing user (better-auth's rule); a
  bearer JWT whose email is taken gets a user of its own, with a placeholder address.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from everything_app.auth.links import OidcIdentity
from everything_app.auth.models import Role, User
from everything_app.auth.service import act_as, get_user_by_email, normalize_email
from everything_app.core import rls
from everything_app.core.errors import BadRequest
from everything_app.core.timestamps import format_instant

# Users who sign in only elsewhere have no password: an empty hash matches none
# (auth.service.authenticate treats it as no account, timing included).
NO_PASSWORD = ""
PLACEHOLDER_DOMAIN = "users.invalid"  # RFC 2606: can never receive mail


@dataclass(frozen=True)
class ExternalToken:
    """A verified bearer JWT's link: which identity, and until when the token is good."""

    id: uuid.UUID  # the oidc_identities row
    user_id: uuid.UUID
    issuer: str
    subject: str
    expires_at: datetime
    # This token's own id in the credential cache (a subject has many tokens).
    token_id: uuid.UUID


def placeholder_email(namespace: str, subject: str) -> str:
    digest = hashlib.sha256(f"{namespace}\0{subject}".encode()).hexdigest()[:32]
    return f"u-{digest}@{PLACEHOLDER_DOMAIN}"


def usable_email(email: str | None, verified: bool) -> str | None:
    """The provider's email in our canonical form, when it is verified and valid."""
    if email is None or not verified:
        return None
    try:
        return normalize_email(email)
    except BadRequest:
        return None


def display_name(name: str | None, email: str | None) -> str:
    name = (name or "").strip()[:200]
    if name:
        return name
    return email.split("@", 1)[0][:200] if email else "user"


async def new_user(
    db: AsyncSession,
    *,
    email: str | None,
    email_verified: bool,
    namespace: str,
    subject: str,
    name: str | None,
    image: str | None,
) -> User:
    """A user with no password. `email` (canonical, verified) is used only when no user has
    it; otherwise the user gets a placeholder address."""
    if email is not None and await get_user_by_email(db, email) is not None:
        email = None
    user = User(
        email=email or placeholder_email(namespace, subject),
        name=display_name(name, email),
        image=image,
        role=Role.USER,
        email_verified=email is not None and email_verified,
        password_hash=NO_PASSWORD,
    )
    db.add(user)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:  # that email was taken meanwhile: a placeholder, then
        db.expunge(user)
        user = User(
            email=placeholder_email(namespace, subject),
            name=display_name(name, None),
            image=image,
            role=Role.USER,
            email_verified=False,
            password_hash=NO_PASSWORD,
        )
        db.add(user)
        async with db.begin_nested():
            await db.flush()
    return user


async def _linked(db: AsyncSession, issuer: str, subject: str) -> tuple[OidcIdentity, User] | None:
    row = (
        await db.execute(
            select(OidcIdentity, User)
            .join(User, User.id == OidcIdentity.user_id)
            .where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def user_for_subject(
    db: AsyncSession,
    *,
    issuer: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    name: str | None,
    picture: str | None,
) -> tuple[OidcIdentity, User]:
    """The local user of an issuer's subject, created (with its link) on first sight. From
    then on `db` acts for that user (row-level security)."""
    # Nobody is known yet: the one table read and written before the link says who.
    await rls.act_as_system(db, tables=("oidc_identities",), reason="oidc subject look-up")
    found = await _linked(db, issuer, subject)
    if found is None:
        user = await new_user(
            db,
            email=usable_email(email, email_verified),
            email_verified=email_verified,
            namespace=issuer,
            subject=subject,
            name=name,
            image=picture,
        )
        link = OidcIdentity(issuer=issuer, subject=subject, user_id=user.id)
        db.add(link)
        try:
            async with db.begin_nested():
                await db.flush()
        except IntegrityError:  # a concurrent first request linked this subject
            db.expunge(link)
            await db.delete(user)
            await db.flush()
            found = await _linked(db, issuer, subject)
            assert found is not None
        else:
            found = (link, user)
    await act_as(db, found[1])
    return found


def external_session_view(token: ExternalToken, request: Request) -> dict[str, Any]:
    """`get-session`'s `session` for a bearer JWT: the identity link, alive until `exp`."""
    return {
        "id": str(token.id),
        "userId": str(token.user_id),
        "expiresAt": format_instant(token.expires_at),
        "createdAt": format_instant(token.expires_at),
        "updatedAt": format_instant(token.expires_at),
        "ipAddress": request.state.client_ip,
        "userAgent": request.headers.get("user-agent"),
    }
