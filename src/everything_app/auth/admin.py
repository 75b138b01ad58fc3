"""Administration (better-auth's admin plugin): users, roles, bans, other users' sessions.

The logic and the queries, no HTTP (auth.admin_routes). Every action is logged with who did
it: a structured log line `admin_action` and a row in `admin_actions`, written in the same
unit of work as the change itself (so neither exists without the other).

Administrators never drop to zero: a change that would take the last active administrator's
role, ban them or remove them is refused with 409 `LAST_ADMIN`. Such changes are serialised
(a transaction-scoped advisory lock on PostgreSQL; on SQLite the writing unit of work holds
the database's write lock from its first statement), and the count is taken after the lock,
so two administrators demoting each other at once leave one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from everything_app.auth import passwords
from everything_app.auth.credentials import UserSnapshot
from everything_app.auth.models import AdminAction, Role, Session, User
from everything_app.auth.service import (
    AccountDeletionHook,
    act_as,
    check_password_policy,
    create_user,
    delete_session,
    erase_account,
    normalize_email,
    revoke_other_sessions,
)
from everything_app.core import rls
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import AppError, BadRequest, Conflict, NotFound
from everything_app.core.logging import get_logger
from everything_app.core.security import token_hash
from everything_app.core.timestamps import parse_instant

log = get_logger(__name__)

# First key of the advisory lock that serialises changes to who is an administrator.
ADMINS_LOCK = 0x41_44_4D_4E  # "ADMN"

Actor = UserSnapshot | User


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "User not found"


class LastAdmin(Conflict):
    code = "last_admin"
    message = "This would leave no administrator: make another user an administrator first."


class CannotBanYourself(BadRequest):
    code = "you_cannot_ban_yourself"
    message = "You cannot ban yourself"


class CannotRemoveYourself(BadRequest):
    code = "you_cannot_remove_yourself"
    message = "You cannot remove yourself"


class NonExistentRole(BadRequest):
    code = "you_are_not_allowed_to_set_non_existent_value"
    message = "You are not allowed to set a non-existent role value"


class AdminUserExists(BadRequest):
    code = "user_already_exists_use_another_email"
    message = "User already exists. Use another email."


# --- the log -------------------------------------------------------------------------------


async def record(
    db: AsyncSession,
    actor: Actor,
    action: str,
    target_id: uuid.UUID | None,
    **detail: Any,
) -> None:
    """Log an administrator's action (the log line and the `admin_actions` row)."""
    log.info(
        "admin_action",
        actor_id=str(actor.id),
        action=action,
        target_id=str(target_id) if target_id else None,
        **detail,
    )
    db.add(AdminAction(actor_id=actor.id, action=action, target_id=target_id, detail=detail))
    await db.flush()


async def list_actions(
    db: AsyncSession, *, limit: int, before: tuple[datetime, uuid.UUID] | None
) -> list[AdminAction]:
    query = select(AdminAction)
    if before is not None:
        at, row_id = before
        query = query.where(
            (AdminAction.created_at < at)
            | ((AdminAction.created_at == at) & (AdminAction.id < row_id))
        )
    query = query.order_by(AdminAction.created_at.desc(), AdminAction.id.desc()).limit(limit + 1)
    return list((await db.execute(query)).scalars())


# --- users ---------------------------------------------------------------------------------


async def _user(db: AsyncSession, user_id: uuid.UUID, *, fresh: bool = False) -> User:
    query = select(User).where(User.id == user_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    found = (await db.execute(query)).scalar_one_or_none()
    if found is None:
        raise UserNotFound()
    return found


async def get_user(db: AsyncSession, user_id: uuid.UUID) -> User:
    return await _user(db, user_id)


def _changed(db: AsyncSession, user_id: uuid.UUID, **data: Any) -> None:
    """Cached credentials of the user drop on every instance (auth.credentials); a ban's
    `banned` closes their live sockets too (realtime)."""
    record_change(db, Change("users", "update", user_id, user_id, data))


def _active_admin() -> ColumnElement[bool]:
    """An administrator who counts: the admin role and no ban (a lapsed one still counts
    until lifted: the check errs on the side of keeping one)."""
    return (User.role == Role.ADMIN) & (User.banned == false())


async def _lock_admins(db: AsyncSession) -> None:
    """Serialise changes to the set of administrators until the transaction ends."""
    connection = (await db.connection()).sync_connection
    assert connection is not None
    if connection.dialect.name == "postgresql":
        await db.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), 0)"),
            {"space": ADMINS_LOCK},
        )
    elif not connection.get_execution_options().get("sqlite_immediate", False):
        raise RuntimeError("changing administrators needs a writing unit of work")


async def keep_an_admin(db: AsyncSession, target: User) -> User:
    """Before `target` stops counting as an administrator: lock, re-read, and refuse with
    409 when nobody else would be left. Returns the target as it is now."""
    await _lock_admins(db)
    target = await _user(db, target.id, fresh=True)
    if not (target.role == Role.ADMIN and not target.banned):
        return target  # not (or no longer) a counting administrator: nothing to keep
    others = await db.execute(
        select(func.count()).select_from(User).where(_active_admin(), User.id != target.id)
    )
    if others.scalar_one() == 0:
        raise LastAdmin()
    return target


def parse_role(role: str | Sequence[str]) -> Role:
    """better-auth's role value (a string, a comma-separated list or an array) as our one
    role: `admin` when it names admin, else `user`; any other name is refused."""
    names = [role] if isinstance(role, str) else list(role)
    parts = [part.strip() for name in names for part in name.split(",")]
    if not parts or any(part not in (Role.USER, Role.ADMIN) for part in parts):
        raise NonExistentRole()
    return Role.ADMIN if Role.ADMIN in parts else Role.USER


async def create(
    db: AsyncSession,
    actor: Actor,
    *,
    email: str,
    name: str,
    password: str | None,
    role: Role,
) -> User:
    """An account made by an administrator. Without a password it can not sign in with one
    (a random one is stored) until set-user-password gives it one."""
    email = normalize_email(email)
    try:
        user = await create_user(
            db,
            email=email,
            password=password if password else passwords_unusable(),
            name=name,
            role=role,
        )
    except AppError as exc:
        if exc.code == "user_already_exists_use_another_email":
            raise AdminUserExists() from exc
        raise
    await record(db, actor, "create-user", user.id, role=str(role))
    return user


def passwords_unusable() -> str:
    """A password nobody knows (the account has no password sign-in until one is set)."""
    return uuid.uuid4().hex + uuid.uuid4().hex


async def set_role(db: AsyncSession, actor: Actor, user_id: uuid.UUID, role: Role) -> User:
    user = await _user(db, user_id)
    if role != Role.ADMIN:
        user = await keep_an_admin(db, user)
    previous = user.role
    user.role = role
    user.updated_at = utcnow()
    await db.flush()
    _changed(db, user.id)
    await record(db, actor, "set-role", user.id, role=str(role), previous=previous)
    return user


async def update_fields(
    db: AsyncSession, actor: Actor, user_id: uuid.UUID, fields: dict[str, Any]
) -> User:
    """better-auth's admin update-user: name, image, email, emailVerified and role (ban
    fields go through ban-user/unban-user)."""
    user = await _user(db, user_id)
    if "role" in fields:
        role = fields["role"]
        if role != Role.ADMIN:
            user = await keep_an_admin(db, user)
        user.role = role
    if "email" in fields:
        email = normalize_email(fields["email"])
        clash = await db.execute(select(User.id).where(User.email == email, User.id != user.id))
        if clash.first() is not None:
            raise AdminUserExists()
        user.email = email
    for name in ("name", "image", "email_verified"):
        if name in fields:
            setattr(user, name, fields[name])
    user.updated_at = utcnow()
    await db.flush()
    _changed(db, user.id)
    await record(db, actor, "update-user", user.id, fields=sorted(fields))
    return user


async def ban(
    db: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    reason: str | None,
    expires_in: float | None,
) -> User:
    """Ban the user: every session ends (their sockets close at once, on every instance) and
    sign-in is refused until the ban is lifted or lapses."""
    user = await _user(db, user_id)
    if user.id == actor.id:
        raise CannotBanYourself()
    user = await keep_an_admin(db, user)
    now = utcnow()
    user.banned = True
    user.ban_reason = reason or "No reason"
    user.ban_expires = now + timedelta(seconds=expires_in) if expires_in else None
    user.updated_at = now
    await db.flush()
    await _end_sessions(db, user.id)
    _changed(db, user.id, banned=True)
    await record(
        db,
        actor,
        "ban-user",
        user.id,
        reason=user.ban_reason,
        expires=user.ban_expires.isoformat() if user.ban_expires else None,
    )
    return user


async def unban(db: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    user = await _user(db, user_id)
    user.banned, user.ban_reason, user.ban_expires = False, None, None
    user.updated_at = utcnow()
    await db.flush()
    _changed(db, user.id)
    await record(db, actor, "unban-user", user.id)
    return user


# --- sessions ------------------------------------------------------------------------------


async def _as_system_for_sessions(db: AsyncSession) -> None:
    # Sessions are their owner's rows (row-level security); an administrator reads and ends
    # another user's through an explicit, logged system scope.
    await rls.act_as_system(db, tables=("sessions",), reason="admin")


async def list_user_sessions(db: AsyncSession, user_id: uuid.UUID) -> list[Session]:
    await _as_system_for_sessions(db)
    result = await db.execute(
        select(Session)
        .where(Session.user_id == user_id, Session.expires_at > utcnow())
        .order_by(Session.created_at.desc(), Session.id)
    )
    return list(result.scalars())


async def _end_sessions(db: AsyncSession, user_id: uuid.UUID) -> int:
    """End every session of the user through auth's own revocation (its change events drop
    cached credentials and close sockets on every instance)."""
    await _as_system_for_sessions(db)
    ended = await db.execute(
        select(func.count()).select_from(Session).where(Session.user_id == user_id)
    )
    count = ended.scalar_one()
    await revoke_other_sessions(db, User(id=user_id), None)
    return int(count)


async def revoke_user_session(db: AsyncSession, actor: Actor, session_token: str) -> bool:
    """End one session, named by its id (what list-user-sessions gives as `token`: tokens
    are kept hashed) or by its token. False when there is no such session."""
    await _as_system_for_sessions(db)
    try:
        condition = Session.id == uuid.UUID(session_token)
    except ValueError:
        condition = Session.token_hash == token_hash(session_token)
    row = (await db.execute(select(Session.id, Session.user_id).where(condition))).first()
    if row is None:
        return False
    session_id, owner = row
    # auth's own path: the delete and its change event (cache and sockets, every instance).
    await delete_session(db, session_id)
    await record(db, actor, "revoke-user-session", owner, session_id=str(session_id))
    return True


async def revoke_user_sessions(db: AsyncSession, actor: Actor, user_id: uuid.UUID) -> None:
    await _user(db, user_id)
    count = await _end_sessions(db, user_id)
    await record(db, actor, "revoke-user-sessions", user_id, sessions=count)


# --- passwords and removal -----------------------------------------------------------------


async def set_password(
    db: AsyncSession, actor: Actor, user_id: uuid.UUID, new_password: str
) -> None:
    """Set the user's password. Sessions are kept, as better-auth's set-user-password does."""
    check_password_policy(new_password)
    user = await _user(db, user_id)
    new_hash = await passwords.hash_password(new_password)
    await db.execute(
        update(User).where(User.id == user.id).values(password_hash=new_hash, updated_at=utcnow())
    )
    _changed(db, user.id)
    await record(db, actor, "set-user-password", user.id)


async def remove(
    db: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    hooks: Iterable[AccountDeletionHook],
) -> None:
    """Delete the account through auth's account-deletion path (its hooks run, everything it
    owns goes with it, live sockets close)."""
    if user_id == actor.id:
        raise CannotRemoveYourself()
    user = await _user(db, user_id)
    user = await keep_an_admin(db, user)
    await record(db, actor, "remove-user", user.id)  # no email: the account is erased
    # The deletion acts as the user being deleted, exactly as when they delete their own
    # account (row-level security: their rows, their sessions), then as the admin again.
    await act_as(db, user)
    await erase_account(db, user, hooks)
    await rls.set_current_user(db, actor.id, admin=True)


# --- list-users ----------------------------------------------------------------------------

SearchField = Literal["email", "name"]
SearchOperator = Literal["contains", "starts_with", "ends_with"]
Direction = Literal["asc", "desc"]

# better-auth's user field names (as its client sends them) to our columns.
FIELDS: dict[str, InstrumentedAttribute[Any]] = {
    "id": User.id,
    "email": User.email,
    "name": User.name,
    "image": User.image,
    "role": User.role,
    "emailVerified": User.email_verified,
    "banned": User.banned,
    "banReason": User.ban_reason,
    "banExpires": User.ban_expires,
    "createdAt": User.created_at,
    "updatedAt": User.updated_at,
}
_BOOLEAN = {"emailVerified", "banned"}
_INSTANT = {"banExpires", "createdAt", "updatedAt"}
FILTER_OPERATORS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
)


@dataclass(frozen=True)
class UserQuery:
    limit: int
    offset: int
    search_value: str | None = None
    search_field: SearchField = "email"
    search_operator: SearchOperator = "contains"
    sort_by: str | None = None
    sort_direction: Direction = "asc"
    filter_field: str = "email"
    filter_value: str | list[str] | None = None
    filter_operator: str = "eq"


def _field(name: str, what: str) -> InstrumentedAttribute[Any]:
    column = FIELDS.get(name)
    if column is None:
        raise BadRequest(f"{what} must be one of: {', '.join(FIELDS)}", code="invalid_field")
    return column


def _value(field: str, raw: str) -> Any:
    """A filter value (a query string) as the field's type; 400 when it is not one."""
    if field in _BOOLEAN:
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise BadRequest(f"{field} is true or false", code="invalid_filter_value")
    try:
        if field in _INSTANT:
            return parse_instant(raw)
        if field == "id":
            return uuid.UUID(raw)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Invalid value for {field}", code="invalid_filter_value") from exc
    return raw


def _text_match(column: InstrumentedAttribute[Any], operator: str, value: str) -> Any:
    """Case-insensitive on both databases; `%` and `_` in the value are literal."""
    if operator == "contains":
        return column.icontains(value, autoescape=True)
    if operator == "starts_with":
        return column.istartswith(value, autoescape=True)
    return column.iendswith(value, autoescape=True)


def _filter(query: UserQuery) -> ColumnElement[bool] | None:
    if query.filter_value is None:
        return None
    field, operator = query.filter_field, query.filter_operator
    column = _field(field, "filterField")
    if operator not in FILTER_OPERATORS:
        raise BadRequest(
            f"filterOperator must be one of: {', '.join(FILTER_OPERATORS)}",
            code="invalid_operator",
        )
    raw = query.filter_value
    if operator in ("in", "not_in"):
        values = [_value(field, item) for item in ([raw] if isinstance(raw, str) else raw)]
        return column.in_(values) if operator == "in" else column.not_in(values)
    if not isinstance(raw, str):
        raise BadRequest("filterValue must be one value", code="invalid_filter_value")
    if operator in ("contains", "starts_with", "ends_with"):
        if field in _BOOLEAN or field in _INSTANT or field == "id":
            raise BadRequest(f"{operator} needs a text field", code="invalid_operator")
        return _text_match(column, operator, raw)  # type: ignore[no-any-return]
    value = _value(field, raw)
    compare: dict[str, Any] = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "lt": column.__lt__,
        "lte": column.__le__,
        "gt": column.__gt__,
        "gte": column.__ge__,
    }
    condition: ColumnElement[bool] = compare[operator](value)
    if operator == "ne" and value is not None:
        condition = condition | column.is_(None)
    return condition


def _where(query: UserQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.search_value:
        column = FIELDS[query.search_field]
        conditions.append(_text_match(column, query.search_operator, query.search_value))
    found = _filter(query)
    if found is not None:
        conditions.append(found)
    return conditions


async def list_users(db: AsyncSession, query: UserQuery) -> tuple[list[User], int]:
    """A page of users and how many match in all. Ordered by `sort_by` (any user field),
    the id breaking ties so pages never overlap; oldest first when no order is asked."""
    conditions = _where(query)
    total_query = select(func.count()).select_from(User)
    page = select(User)
    for condition in conditions:
        total_query = total_query.where(condition)
        page = page.where(condition)
    if query.sort_by:
        column = _field(query.sort_by, "sortBy")
        # NULLs first going up, last going down, on both databases (SQLite's own order).
        if query.sort_direction == "desc":
            order = column.desc().nulls_last()
        else:
            order = column.asc().nulls_first()
        tie = User.id.desc() if query.sort_direction == "desc" else User.id.asc()
        page = page.order_by(order, tie)
    else:
        page = page.order_by(User.created_at, User.id)
    total = (await db.execute(total_query)).scalar_one()
    rows = await db.execute(page.limit(query.limit).offset(query.offset))
    return list(rows.scalars()), int(total)
