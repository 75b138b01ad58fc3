"""better-auth's admin plugin endpoints under /api/auth/admin, so its `adminClient` works
against us unchanged: routes, methods, fields, shapes and error codes as the plugin has them.

Administrators only (role `admin`); anyone else signed in gets 403 with the plugin's code for
the endpoint (`YOU_ARE_NOT_ALLOWED_TO_LIST_USERS`, ...), and nothing changes. Impersonation
(`impersonate-user`, `stop-impersonating`) is not offered.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from everything_app.auth import admin
from everything_app.auth.credentials import UserSnapshot
from everything_app.auth.deps import CurrentPrincipal, require_principal
from everything_app.auth.models import AdminAction, Role, Session
from everything_app.auth.routes import user_json
from everything_app.auth.schemas import SessionOut
from everything_app.auth.service import AccountDeletionHooks
from everything_app.core.db import SessionDep
from everything_app.core.errors import BadRequest, Forbidden
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from everything_app.core.timestamps import format_instant
from everything_app.core.validation import Input

router = APIRouter(
    prefix="/api/auth/admin", tags=["auth admin"], dependencies=[Depends(require_principal)]
)

# The list's largest `offset`: a 32-bit integer, which every database takes as an OFFSET.
MAX_OFFSET = 2**31 - 1
# A ban lasts at most about a century (a longer one is a ban without expiry).
MAX_BAN_SECONDS = 100 * 366 * 24 * 3600


def _allowed(what: str) -> Callable[[CurrentPrincipal], Awaitable[UserSnapshot]]:
    """The dependency that admits administrators and refuses anyone else with better-auth's
    403 for the endpoint: `YOU_ARE_NOT_ALLOWED_TO_<WHAT>`."""
    code = "you_are_not_allowed_to_" + what.replace(" ", "_")
    message = f"You are not allowed to {what}"

    async def check(principal: CurrentPrincipal) -> UserSnapshot:
        if not principal.account.is_admin:
            raise Forbidden(message, code=code)
        return principal.account

    return check


ListUsersAdmin = Annotated[UserSnapshot, Depends(_allowed("list users"))]
GetUserAdmin = Annotated[UserSnapshot, Depends(_allowed("get user"))]
CreateAdmin = Annotated[UserSnapshot, Depends(_allowed("create users"))]
UpdateAdmin = Annotated[UserSnapshot, Depends(_allowed("update users"))]
RoleAdmin = Annotated[UserSnapshot, Depends(_allowed("change users role"))]
BanAdmin = Annotated[UserSnapshot, Depends(_allowed("ban users"))]
SessionsAdmin = Annotated[UserSnapshot, Depends(_allowed("list users sessions"))]
RevokeAdmin = Annotated[UserSnapshot, Depends(_allowed("revoke users sessions"))]
DeleteAdmin = Annotated[UserSnapshot, Depends(_allowed("delete users"))]
PasswordAdmin = Annotated[UserSnapshot, Depends(_allowed("set users password"))]
LogAdmin = Annotated[UserSnapshot, Depends(_allowed("list admin actions"))]

UserId = Annotated[str, Field(min_length=1, max_length=100)]


def _user_id(raw: str) -> uuid.UUID:
    """better-auth coerces `userId` to a string; one that is not one of our ids names nobody."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise admin.UserNotFound() from None


def _session_json(session: Session) -> dict[str, Any]:
    out = SessionOut.model_validate(session, from_attributes=True).model_dump(
        mode="json", by_alias=True
    )
    # Tokens are kept hashed: the session's id stands in for it (revoke-user-session takes it).
    out["token"] = str(session.id)
    out["impersonatedBy"] = None
    return out


# --- users ---------------------------------------------------------------------------------


@router.get("/list-users")
async def list_users(
    actor: ListUsersAdmin,
    db: SessionDep,
    searchValue: Annotated[str | None, Query(max_length=320)] = None,  # noqa: N803
    searchField: Literal["email", "name"] | None = None,  # noqa: N803
    searchOperator: Literal["contains", "starts_with", "ends_with"] | None = None,  # noqa: N803
    limit: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    sortBy: Annotated[str | None, Query(max_length=40)] = None,  # noqa: N803
    sortDirection: Literal["asc", "desc"] | None = None,  # noqa: N803
    filterField: Annotated[str | None, Query(max_length=40)] = None,  # noqa: N803
    filterValue: Annotated[list[str] | None, Query(max_length=100)] = None,  # noqa: N803
    filterOperator: Annotated[str | None, Query(max_length=20)] = None,  # noqa: N803
) -> dict[str, Any]:
    """Users matching a search (`searchValue` in `searchField` email|name, `searchOperator`
    contains|starts_with|ends_with, case-insensitive) and a filter (`filterField` any user
    field, `filterOperator` eq|ne|lt|lte|gt|gte|in|not_in|contains|starts_with|ends_with),
    sorted by `sortBy` (`sortDirection` asc|desc), paged by `limit` (at most 200; 0 or none:
    50) and `offset`. `total` counts every match."""
    effective = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    value: str | list[str] | None = None
    if filterValue:
        value = filterValue[0] if len(filterValue) == 1 else filterValue
        if isinstance(value, str) and filterOperator in ("in", "not_in"):
            value = value.split(",")
    query = admin.UserQuery(
        limit=effective,
        offset=offset or 0,
        search_value=searchValue,
        search_field=searchField or "email",
        search_operator=searchOperator or "contains",
        sort_by=sortBy,
        sort_direction=sortDirection or "asc",
        filter_field=filterField or "email",
        filter_value=value,
        filter_operator=filterOperator or "eq",
    )
    users, total = await admin.list_users(db, query)
    return {
        "users": [user_json(u) for u in users],
        "total": total,
        "limit": effective,
        "offset": offset or 0,
    }


@router.get("/get-user")
async def get_user(
    actor: GetUserAdmin, db: SessionDep, id: Annotated[str, Query(max_length=100)]
) -> dict[str, Any]:
    """One user by id (the user object itself, as better-auth answers)."""
    return user_json(await admin.get_user(db, _user_id(id)))


class CreateUserBody(Input):
    email: str = Field(max_length=1000)
    password: str | None = Field(default=None, max_length=10_000)
    name: str = Field(max_length=200)
    role: str | list[str] | None = None
    data: dict[str, Any] | None = None


@router.post("/create-user")
async def create_user(body: CreateUserBody, actor: CreateAdmin, db: SessionDep) -> dict[str, Any]:
    """Create an account (`role` user by default). Without `password` it has no password
    sign-in until set-user-password gives it one. `data` may carry `image`, `emailVerified`
    and `role`."""
    extra = dict(body.data or {})
    requested = body.role if body.role is not None else extra.pop("role", None)
    if requested is not None and not isinstance(requested, str | list):
        raise BadRequest("Invalid role type", code="invalid_role_type")
    role = admin.parse_role(requested) if requested is not None else Role.USER
    user = await admin.create(
        db, actor, email=body.email, name=body.name, password=body.password, role=role
    )
    fields = _user_fields(extra, allowed={"image", "emailVerified"}, strict=False)
    if fields:
        user = await admin.update_fields(db, actor, user.id, fields)
    return {"user": user_json(user)}


_UPDATABLE = {"name", "image", "email", "emailVerified", "role"}


def _user_fields(data: dict[str, Any], *, allowed: set[str], strict: bool) -> dict[str, Any]:
    """better-auth field names and values to our columns' (400 for a bad value)."""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            if strict:
                raise BadRequest(
                    f"{key} can not be updated here; updatable: {', '.join(sorted(allowed))}",
                    code="invalid_field",
                )
            continue
        if key == "role":
            if not isinstance(value, str | list):
                raise BadRequest("Invalid role type", code="invalid_role_type")
            fields["role"] = admin.parse_role(value)
        elif key == "emailVerified":
            if not isinstance(value, bool):
                raise BadRequest("emailVerified is true or false", code="invalid_field")
            fields["email_verified"] = value
        elif key == "image":
            if value is not None and (not isinstance(value, str) or len(value) > 2048):
                raise BadRequest("image is a URL of at most 2048 characters", code="invalid_field")
            fields["image"] = value
        else:  # name, email
            limit = 200 if key == "name" else 1000
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                raise BadRequest(f"{key} is a non-empty text", code="invalid_field")
            fields[key] = value.strip() if key == "name" else value
    return fields


class UpdateUserBody(Input):
    userId: UserId  # noqa: N815
    data: dict[str, Any]


@router.post("/update-user")
async def update_user(body: UpdateUserBody, actor: UpdateAdmin, db: SessionDep) -> dict[str, Any]:
    """Update a user's `name`, `image`, `email`, `emailVerified` or `role` (the user object
    itself is answered). Passwords go through set-user-password, bans through ban-user."""
    if not body.data:
        raise BadRequest("No data to update", code="no_data_to_update")
    if "password" in body.data:
        raise BadRequest(
            "Password cannot be updated through update-user. "
            "Use the set-user-password endpoint instead",
            code="password_cannot_be_updated_via_update_user",
        )
    fields = _user_fields(body.data, allowed=_UPDATABLE, strict=True)
    user = await admin.update_fields(db, actor, _user_id(body.userId), fields)
    return user_json(user)


class SetRoleBody(Input):
    userId: UserId  # noqa: N815
    role: str | list[str]


@router.post("/set-role")
async def set_role(body: SetRoleBody, actor: RoleAdmin, db: SessionDep) -> dict[str, Any]:
    """Make a user `admin` or `user`. Taking the last administrator's role is a 409
    `LAST_ADMIN`."""
    role = admin.parse_role(body.role)
    user = await admin.set_role(db, actor, _user_id(body.userId), role)
    return {"user": user_json(user)}


# --- bans ----------------------------------------------------------------------------------


class BanUserBody(Input):
    userId: UserId  # noqa: N815
    banReason: str | None = Field(default=None, max_length=500)  # noqa: N815
    banExpiresIn: float | None = Field(default=None, gt=0, le=MAX_BAN_SECONDS)  # noqa: N815


@router.post("/ban-user")
async def ban_user(body: BanUserBody, actor: BanAdmin, db: SessionDep) -> dict[str, Any]:
    """Ban a user (`banExpiresIn` seconds, or for good): their sessions end and their live
    connections close at once, and sign-in answers 403 `BANNED_USER` until the ban is lifted
    or lapses."""
    user = await admin.ban(
        db,
        actor,
        _user_id(body.userId),
        reason=body.banReason,
        expires_in=body.banExpiresIn,
    )
    return {"user": user_json(user)}


class UserIdBody(Input):
    userId: UserId  # noqa: N815


@router.post("/unban-user")
async def unban_user(body: UserIdBody, actor: BanAdmin, db: SessionDep) -> dict[str, Any]:
    user = await admin.unban(db, actor, _user_id(body.userId))
    return {"user": user_json(user)}


# --- sessions ------------------------------------------------------------------------------


@router.post("/list-user-sessions")
async def list_user_sessions(
    body: UserIdBody, actor: SessionsAdmin, db: SessionDep
) -> dict[str, Any]:
    """A user's live sessions. `token` is the session's id (tokens are stored hashed)."""
    sessions = await admin.list_user_sessions(db, _user_id(body.userId))
    return {"sessions": [_session_json(s) for s in sessions]}


class RevokeUserSessionBody(Input):
    sessionToken: str = Field(min_length=1, max_length=500)  # noqa: N815


@router.post("/revoke-user-session")
async def revoke_user_session(
    body: RevokeUserSessionBody, actor: RevokeAdmin, db: SessionDep
) -> dict[str, Any]:
    """End one session, by the `token` list-user-sessions gave (or the real token)."""
    await admin.revoke_user_session(db, actor, body.sessionToken)
    return {"success": True}


@router.post("/revoke-user-sessions")
async def revoke_user_sessions(
    body: UserIdBody, actor: RevokeAdmin, db: SessionDep
) -> dict[str, Any]:
    await admin.revoke_user_sessions(db, actor, _user_id(body.userId))
    return {"success": True}


# --- removal and passwords -----------------------------------------------------------------


@router.post("/remove-user")
async def remove_user(
    body: UserIdBody, actor: DeleteAdmin, db: SessionDep, request: Request
) -> dict[str, Any]:
    """Delete a user and everything they own (the account-deletion path). Not yourself; not
    the last administrator (409 `LAST_ADMIN`)."""
    hooks = request.app.state.registry[AccountDeletionHooks]
    await admin.remove(db, actor, _user_id(body.userId), hooks)
    return {"success": True}


class SetUserPasswordBody(Input):
    newPassword: str = Field(min_length=1, max_length=10_000)  # noqa: N815
    userId: UserId  # noqa: N815


@router.post("/set-user-password")
async def set_user_password(
    body: SetUserPasswordBody, actor: PasswordAdmin, db: SessionDep
) -> dict[str, Any]:
    """Set a user's password (their sessions are kept, as better-auth does)."""
    await admin.set_password(db, actor, _user_id(body.userId), body.newPassword)
    return {"status": True}


# --- permissions ---------------------------------------------------------------------------

# better-auth's default access control: what each role may do.
ADMIN_STATEMENTS: dict[str, frozenset[str]] = {
    "user": frozenset(
        {
            "create",
            "list",
            "set-role",
            "ban",
            "impersonate",
            "delete",
            "set-password",
            "set-email",
            "get",
            "update",
        }
    ),
    "session": frozenset({"list", "revoke", "delete"}),
}


class HasPermissionBody(Input):
    userId: str | None = Field(default=None, max_length=100)  # noqa: N815
    role: str | None = Field(default=None, max_length=100)
    permission: dict[str, list[str]] | None = None
    permissions: dict[str, list[str]] | None = None


def role_allows(role: str, permissions: dict[str, list[str]]) -> bool:
    if role != Role.ADMIN:
        return False  # better-auth's `user` role has no admin permissions
    return all(
        resource in ADMIN_STATEMENTS and set(actions) <= ADMIN_STATEMENTS[resource]
        for resource, actions in permissions.items()
    )


@router.post("/has-permission")
async def has_permission(body: HasPermissionBody, principal: CurrentPrincipal) -> dict[str, Any]:
    """Whether the caller's role grants `permissions` (e.g. `{"user": ["ban"]}`); any
    signed-in user may ask about themselves."""
    permissions = body.permissions if body.permissions is not None else body.permission
    if not permissions:
        raise BadRequest(
            "invalid permission check. no permission(s) were passed.", code="bad_request"
        )
    return {"error": None, "success": role_allows(principal.account.role, permissions)}


# --- the log -------------------------------------------------------------------------------


def _action_json(row: AdminAction) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "actorId": str(row.actor_id) if row.actor_id else None,
        "action": row.action,
        "targetId": str(row.target_id) if row.target_id else None,
        "detail": row.detail,
        "createdAt": format_instant(row.created_at),
    }


@router.get("/list-actions")
async def list_actions(
    actor: LogAdmin,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """Not part of better-auth: the log of administrators' actions, newest first
    (`{data, next_cursor}`, the API's list shape)."""
    before = decode_cursor(cursor) if cursor else None
    rows = await admin.list_actions(db, limit=limit, before=before)
    page = rows[:limit]
    next_cursor = (
        encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit and page else None
    )
    return {"data": [_action_json(r) for r in page], "next_cursor": next_cursor}
