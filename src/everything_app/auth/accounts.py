"""The ways a user signs in (better-auth's `list-accounts` / `unlink-account`): the password
(`credential`), each linked social account, and each external issuer's subject."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth.external import NO_PASSWORD
from everything_app.auth.links import Account, OidcIdentity
from everything_app.auth.models import User
from everything_app.auth.social import CREDENTIAL
from everything_app.core.errors import BadRequest
from everything_app.core.timestamps import format_instant


def _scopes(scope: str | None) -> list[str]:
    return [s for s in (scope or "").replace(",", " ").split() if s]


async def _accounts(db: AsyncSession, user: User) -> list[Account]:
    rows = await db.execute(
        select(Account).where(Account.user_id == user.id).order_by(Account.created_at, Account.id)
    )
    return list(rows.scalars())


async def linked_accounts(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    """better-auth's list: `{id, providerId, accountId, userId, createdAt, updatedAt, scopes}`;
    the password shows as the `credential` account (its id and accountId are the user's)."""
    out: list[dict[str, Any]] = []
    if await _has_password(db, user.id):
        out.append(
            {
                "id": str(user.id),
                "providerId": CREDENTIAL,
                "accountId": str(user.id),
                "userId": str(user.id),
                "createdAt": format_instant(user.created_at),
                "updatedAt": format_instant(user.updated_at),
                "scopes": [],
            }
        )
    for account in await _accounts(db, user):
        out.append(
            {
                "id": str(account.id),
                "providerId": account.provider_id,
                "accountId": account.account_id,
                "userId": str(account.user_id),
                "createdAt": format_instant(account.created_at),
                "updatedAt": format_instant(account.updated_at),
                "scopes": _scopes(account.scope),
            }
        )
    return out


async def _has_password(db: AsyncSession, user_id: uuid.UUID) -> bool:
    found = await db.scalar(select(User.password_hash).where(User.id == user_id))
    return bool(found)


async def unlink(
    db: AsyncSession, user: User, *, account_id: str | None, provider_id: str | None
) -> None:
    """Remove one way to sign in, never the last one (better-auth's
    FAILED_TO_UNLINK_LAST_ACCOUNT). `account_id` names a row of list-accounts (its `id`, or
    the provider's `accountId`); `provider_id` alone names that provider's account."""
    if account_id is None and provider_id is None:
        raise BadRequest("Account not found", code="account_not_found")
    accounts = await _accounts(db, user)
    has_password = await _has_password(db, user.id)
    issuers = await db.scalar(
        select(func.count()).select_from(OidcIdentity).where(OidcIdentity.user_id == user.id)
    )
    ways = len(accounts) + int(has_password) + int(issuers or 0)
    targets = [
        a
        for a in accounts
        if (provider_id is None or a.provider_id == provider_id)
        and (account_id is None or account_id in (str(a.id), a.account_id))
    ]
    is_credential = has_password and (
        provider_id == CREDENTIAL or (provider_id is None and account_id == str(user.id))
    )
    if not targets and not is_credential:
        raise BadRequest("Account not found", code="account_not_found")
    if ways <= 1:
        raise BadRequest("You can't unlink your last account", code="failed_to_unlink_last_account")
    if is_credential:
        row = await db.get(User, user.id)
        assert row is not None
        row.password_hash = NO_PASSWORD
        await db.flush()
        return
    await db.execute(delete(Account).where(Account.id == targets[0].id))
