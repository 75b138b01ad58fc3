"""better-auth's email/password endpoints under /api/auth, plus aliases
other email/password clients use (`/sign-up`, `/register`, `/sign-in`, `/login`)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from everything_app.auth import admin, service, verification
from everything_app.auth.cookies import clear_session_cookie, set_session_cookie
from everything_app.auth.credentials import SessionInfo, UserSnapshot
from everything_app.auth.deps import (
    CurrentPrincipal,
    CurrentUser,
    OptionalPrincipal,
    Principal,
    client_info,
    refuse_foreign_sign_in,
    session_policy,
)
from everything_app.auth.external import external_session_view
from everything_app.auth.models import User
from everything_app.auth.schemas import (
    ChangePasswordBody,
    DeleteUserBody,
    RevokeSessionBody,
    SessionOut,
    SignInBody,
    SignInOut,
    SignUpBody,
    SignUpOut,
    StatusOut,
    SuccessOut,
    UpdateUserBody,
    UserOut,
)
from everything_app.core import fastjson
from everything_app.core.db import SessionDep, utcnow
from everything_app.core.deps import ClientIP, LimiterDep, SettingsDep, app_settings
from everything_app.core.errors import AppError, Forbidden
from everything_app.core.origins import UntrustedURL, trusted_redirect
from everything_app.core.routers import PUBLIC
from everything_app.core.timestamps import format_instant
from everything_app.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _callback(url: str | None, settings: Settings) -> str | None:
    """A redirect target, parsed as a browser would and held to the trusted origins (no open
    redirect); re-serialized, so what we hand back is exactly what was checked."""
    if url is None:
        return None
    try:
        return trusted_redirect(url, settings.base_url, settings.all_trusted_origins)
    except UntrustedURL:
        raise Forbidden("Invalid callbackURL", code="invalid_callback_url") from None


def user_json(user: User | UserSnapshot) -> dict[str, Any]:
    """The user object, the same on every path: every field present, `image` null when unset
    (as better-auth sends it)."""
    out = UserOut.model_validate(user, from_attributes=True)
    return out.model_dump(mode="json", by_alias=True)


# First in its router: FastAPI tries a request on every route before the one that serves it,
# twice (see core.route_index), and the session check is the most frequent request.
@router.get("/get-session", dependencies=[PUBLIC])
async def get_session(principal: OptionalPrincipal, request: Request) -> Response:
    """The current session and user, or `null` when signed out (better-auth's shape).

    With an API key the `session` describes the key (its id and expiry; no token)."""
    settings = app_settings(request)
    if principal is None:
        signed_out = JSONResponse(None)
        if request.cookies:
            clear_session_cookie(signed_out, settings)
        return signed_out
    session = _session_view(principal, request)
    # Written by orjson: the same bytes as JSONResponse's, on the most frequent request.
    body = fastjson.dumps({"session": session, "user": _user_json(principal.account)})
    response = Response(body, media_type="application/json")
    if principal.refreshed and principal.via == "cookie" and principal.token:
        set_session_cookie(response, settings, principal.token)
    return response


def _session_view(principal: Principal, request: Request) -> dict[str, Any]:
    if principal.session is not None:
        return {**_session_json(principal.session), "token": principal.token}
    if principal.external is not None:  # a bearer JWT: the session is the token's life
        return external_session_view(principal.external, request)
    key = principal.api_key
    assert key is not None
    return {
        "id": str(key.id),
        "userId": str(key.user_id),
        "expiresAt": format_instant(key.expires_at) if key.expires_at else None,
        "createdAt": format_instant(key.created_at),
        "updatedAt": format_instant(key.created_at),
        "ipAddress": request.state.client_ip,
        "userAgent": request.headers.get("user-agent"),
    }


# A verified credential's snapshots are shared by the requests it serves (auth.credentials'
# cache), so their JSON views are made once per snapshot, not validated again per request.
# Shared dicts: only ever written out, never changed.


@functools.lru_cache(maxsize=4096)
def _session_json(session: SessionInfo) -> dict[str, Any]:
    return SessionOut.model_validate(session, from_attributes=True).model_dump(
        mode="json", by_alias=True
    )


@functools.lru_cache(maxsize=4096)
def _user_json(user: UserSnapshot) -> dict[str, Any]:
    return user_json(user)


@router.post("/sign-up/email", dependencies=[PUBLIC], response_model=SignUpOut)
@router.post("/sign-up", dependencies=[PUBLIC], response_model=SignUpOut)
@router.post("/register", dependencies=[PUBLIC], response_model=SignUpOut)
async def sign_up(
    body: SignUpBody,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> JSONResponse:
    """Create an account and sign it in. `/sign-up` and `/register` are aliases;
    `name` defaults to the email's local part when a client sends none."""
    refuse_foreign_sign_in(request, settings)
    await limiter.hit(settings.rate_limit_sign_up_ip, "sign-up", ip)
    callback = _callback(body.callbackURL, settings)
    user = await service.create_user(
        db, email=body.email, password=body.password, name=body.name, image=body.image
    )
    if settings.mail_configured or settings.require_email_verification:
        links = verification.links_for(settings, utcnow())
        await verification.send_verification(db, user, links, callback)
    if settings.require_email_verification:  # signed in once verified (better-auth: no token)
        return JSONResponse({"token": None, "user": user_json(user)})
    _, token = await service.create_session(
        db, user, client_info(request), session_policy(settings)
    )
    response = JSONResponse({"token": token, "user": user_json(user)})
    set_session_cookie(response, settings, token, remember=body.rememberMe)
    return response


@router.post("/sign-in/email", dependencies=[PUBLIC], response_model=SignInOut)
@router.post("/sign-in", dependencies=[PUBLIC], response_model=SignInOut)
@router.post("/login", dependencies=[PUBLIC], response_model=SignInOut)
async def sign_in(
    body: SignInBody,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> JSONResponse:
    """Sign in with email and password. Unknown email and wrong password get the same 401.
    `/sign-in` and `/login` are aliases."""
    refuse_foreign_sign_in(request, settings)
    await limiter.hit(settings.rate_limit_sign_in_ip, "sign-in-ip", ip)
    # One canonical email for the lookup and the failure counter: any spelling of the
    # address (full-width, another case, an ideographic full stop) counts against the account.
    email, email_key = service.sign_in_key(body.email)
    await limiter.check(settings.rate_limit_sign_in_email_failures, "sign-in-email", email_key)
    callback = _callback(body.callbackURL, settings)
    try:
        user = await service.authenticate(db, email, body.password)
    except AppError:
        await limiter.hit(settings.rate_limit_sign_in_email_failures, "sign-in-email", email_key)
        raise
    if settings.require_email_verification and not user.email_verified:
        # Refused with better-auth's code; a fresh link goes out (answered, not raised, so
        # the unit of work commits the mail job).
        links = verification.links_for(settings, utcnow())
        await verification.send_verification(db, user, links, callback)
        return JSONResponse(
            {"code": "EMAIL_NOT_VERIFIED", "message": "Email not verified"}, status_code=403
        )
    _, token = await service.create_session(
        db, user, client_info(request), session_policy(settings)
    )
    out: dict[str, Any] = {"redirect": callback is not None, "token": token}
    if callback is not None:  # better-auth leaves `url` out rather than sending null
        out["url"] = callback
    out["user"] = user_json(user)
    response = JSONResponse(out)
    set_session_cookie(response, settings, token, remember=body.rememberMe)
    return response


@router.post(
    "/sign-out",
    dependencies=[PUBLIC],
    response_model=SuccessOut,
    response_model_exclude_none=True,
)
async def sign_out(
    principal: OptionalPrincipal, db: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """Delete the current session and expire the cookie."""
    if principal is not None and principal.session_id is not None:
        await service.delete_session(db, principal.session_id)
    response = JSONResponse({"success": True})
    clear_session_cookie(response, settings)
    return response


@router.get("/list-sessions", response_model=list[SessionOut])
async def list_sessions(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """The caller's live sessions (tokens are never listed)."""
    sessions = await service.list_sessions(db, user)
    return [
        SessionOut.model_validate(s, from_attributes=True).model_dump(by_alias=True)
        for s in sessions
    ]


@router.post("/revoke-session", response_model=StatusOut)
async def revoke_session(body: RevokeSessionBody, user: CurrentUser, db: SessionDep) -> StatusOut:
    """Sign one of your sessions out, by `id` (from list-sessions) or `token`."""
    await service.revoke_session(db, user, session_id=body.id, token=body.token)
    return StatusOut()


@router.post("/revoke-other-sessions", response_model=StatusOut)
async def revoke_other_sessions(principal: CurrentPrincipal, db: SessionDep) -> StatusOut:
    await service.revoke_other_sessions(db, principal.user, principal.session_id)
    return StatusOut()


@router.post("/revoke-sessions", response_model=StatusOut)
async def revoke_sessions(user: CurrentUser, db: SessionDep) -> StatusOut:
    await service.revoke_other_sessions(db, user, None)
    return StatusOut()


@router.post("/change-password")
async def change_password(
    body: ChangePasswordBody,
    principal: CurrentPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> JSONResponse:
    """Change the password; every other session is signed out."""
    await limiter.hit(
        settings.rate_limit_sign_in_email_failures, "change-password", str(principal.user.id)
    )
    user = await service.change_password(
        db,
        principal.user,
        current=body.currentPassword,
        new=body.newPassword,
        keep_session=principal.session_id,
    )
    return JSONResponse({"token": None, "user": user_json(user)})


@router.post("/update-user", response_model=StatusOut)
async def update_user(body: UpdateUserBody, user: CurrentUser, db: SessionDep) -> StatusOut:
    """Update your name or image. Role, email and verification can not be set here."""
    await service.update_profile(
        db,
        user,
        name=body.name,
        image=body.image,
        clear_image="image" in body.model_fields_set and body.image is None,
    )
    return StatusOut()


@router.post("/delete-user", response_model=SuccessOut)
async def delete_user(
    body: DeleteUserBody,
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> JSONResponse:
    """Delete your account and all its data (GDPR erasure). Needs your password."""
    hooks = request.app.state.registry[service.AccountDeletionHooks]
    if user.is_admin:  # the last administrator can not go (409 LAST_ADMIN)
        await admin.keep_an_admin(db, user)
    await service.delete_account(db, user, body.password, hooks)
    response = JSONResponse({"success": True, "message": "User deleted"})
    clear_session_cookie(response, settings)
    return response
