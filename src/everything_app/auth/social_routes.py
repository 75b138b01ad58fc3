"""better-auth's social sign-in endpoints under /api/auth: `POST /sign-in/social`,
`GET /callback/{provider}`, `GET /list-accounts`, `POST /unlink-account`, and the error page
failed sign-ins land on."""

from __future__ import annotations

import hmac
from html import escape
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import cookie_parser

from everything_app.auth import service, social
from everything_app.auth.accounts import linked_accounts, unlink
from everything_app.auth.cookies import set_session_cookie
from everything_app.auth.deps import (
    CurrentUser,
    client_info,
    refuse_foreign_sign_in,
    session_policy,
)
from everything_app.core.db import SessionDep
from everything_app.core.deps import ClientIP, LimiterDep, SettingsDep
from everything_app.core.errors import BadRequest, Forbidden, NotFound
from everything_app.core.origins import UntrustedURL, trusted_redirect
from everything_app.core.routers import PUBLIC
from everything_app.core.security import sign, unsign
from everything_app.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])

STATE_COOKIE = "better-auth.state"
ERROR_PATH = "/api/auth/error"
_PROVIDER_ID = r"^[a-z0-9][a-z0-9_-]{0,49}$"


class SocialSignInBody(BaseModel):
    """better-auth's body; fields it has that we do not use (`additionalData`, …) are
    ignored, an `idToken` sign-in is refused."""

    model_config = ConfigDict(extra="ignore")

    provider: str = Field(min_length=1, max_length=50)
    callbackURL: str | None = Field(default=None, max_length=2048)  # noqa: N815
    errorCallbackURL: str | None = Field(default=None, max_length=2048)  # noqa: N815
    newUserCallbackURL: str | None = Field(default=None, max_length=2048)  # noqa: N815
    disableRedirect: bool = False  # noqa: N815
    scopes: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=20)
    loginHint: str | None = Field(default=None, max_length=320)  # noqa: N815
    idToken: dict[str, Any] | None = None  # noqa: N815


class SocialSignInOut(BaseModel):
    url: str
    redirect: bool


class UnlinkBody(BaseModel):
    """`accountId` (better-auth 1.5+: the id from list-accounts, or the provider's account
    id) or `providerId` (older clients)."""

    providerId: str | None = Field(default=None, max_length=50)  # noqa: N815
    accountId: str | None = Field(default=None, max_length=255)  # noqa: N815


class AccountOut(BaseModel):
    id: str
    providerId: str  # noqa: N815
    accountId: str  # noqa: N815
    userId: str  # noqa: N815
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815
    scopes: list[str]


def _state_cookie_name(settings: Settings) -> str:
    return ("__Secure-" if settings.secure_cookies else "") + STATE_COOKIE


def _state_cookie(settings: Settings, value: str, max_age: int) -> str:
    parts = [f"{_state_cookie_name(settings)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    parts.append(f"Max-Age={max_age}")
    if settings.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def _trusted(url: str | None, settings: Settings) -> str | None:
    """The same check as email sign-in's `callbackURL` (core.origins, browser parsing)."""
    if url is None:
        return None
    try:
        return trusted_redirect(url, settings.base_url, settings.all_trusted_origins)
    except UntrustedURL:
        raise Forbidden("Invalid callbackURL", code="invalid_callback_url") from None


async def _no_foreign_sign_in(request: Request, settings: SettingsDep) -> None:
    """Login CSRF, decided before the body is read (as for every cookie write)."""
    refuse_foreign_sign_in(request, settings)


@router.post(
    "/sign-in/social",
    dependencies=[PUBLIC, Depends(_no_foreign_sign_in)],
    response_model=SocialSignInOut,
)
async def sign_in_social(
    body: SocialSignInBody,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIP,
) -> JSONResponse:
    """Begin signing in with a provider: answers the provider's authorization URL to send
    the browser to (`{url, redirect}`), and a signed cookie tying the sign-in to it."""
    await limiter.hit(settings.rate_limit_sign_in_ip, "sign-in-ip", ip)
    if body.idToken is not None:
        raise BadRequest("ID token sign-in is not supported", code="id_token_not_supported")
    provider = await social.providers(request).get(body.provider)
    if provider is None:
        raise NotFound("Provider not found", code="provider_not_found")
    callback = _trusted(body.callbackURL or "/", settings)
    assert callback is not None
    started = await social.start(
        db,
        settings,
        provider,
        callback_url=callback,
        error_url=_trusted(body.errorCallbackURL, settings),
        new_user_url=_trusted(body.newUserCallbackURL, settings),
        scopes=body.scopes,
        login_hint=body.loginHint,
    )
    response = JSONResponse({"url": started.url, "redirect": not body.disableRedirect})
    if not body.disableRedirect:
        response.headers["location"] = started.url
    value = quote(sign(started.state, settings.secret), safe="")
    response.headers.append(
        "set-cookie", _state_cookie(settings, value, settings.oauth_state_seconds)
    )
    return response


def _cookie_state(request: Request, settings: Settings) -> str | None:
    header = "; ".join(request.headers.getlist("cookie"))
    raw = cookie_parser(header).get(_state_cookie_name(settings))
    return unsign(unquote(raw), settings.secret) if raw else None


def _with_error(url: str, code: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({"error": code})


def _redirect(url: str, settings: Settings) -> RedirectResponse:
    response = RedirectResponse(url, status_code=302)
    response.headers.append("set-cookie", _state_cookie(settings, "", 0))  # used, or useless
    return response


@router.get("/callback/{provider}", dependencies=[PUBLIC], response_class=RedirectResponse)
async def oauth_callback(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    provider: Annotated[str, Path(pattern=_PROVIDER_ID)],
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    iss: Annotated[str | None, Query(max_length=2000)] = None,
) -> RedirectResponse:
    """Where the provider sends the browser back: checks the state (against the browser's
    cookie, once), exchanges the code, signs the user in with a session cookie, and
    redirects to the `callbackURL` given at the start. A failure redirects to the error URL
    (`errorCallbackURL`, else /api/auth/error) with `?error=<code>`. A provider that is not
    configured is a 404."""
    registry = social.providers(request)
    if provider not in registry.by_id:
        raise NotFound("Provider not found", code="provider_not_found")
    fallback = settings.base_url.rstrip("/") + ERROR_PATH
    if not state:
        return _redirect(_with_error(fallback, "state_not_found"), settings)
    bound = _cookie_state(request, settings)
    if bound is None or not hmac.compare_digest(bound.encode(), state.encode()):
        return _redirect(_with_error(fallback, "state_mismatch"), settings)
    try:
        pending = await social.take_state(db, state, provider)
    except social.SignInFailed as failed:
        return _redirect(_with_error(fallback, failed.code), settings)
    error_url = pending.error_url or fallback
    if error:
        code_name = error if error.replace("_", "").isalnum() else "provider_error"
        return _redirect(_with_error(error_url, code_name), settings)
    if not code:
        return _redirect(_with_error(error_url, "no_code"), settings)
    found = await registry.get(provider)
    if found is None:
        return _redirect(_with_error(error_url, "provider_not_found"), settings)
    try:
        who = await social.finish(settings, registry, found, pending, code=code, iss=iss)
        async with db.begin_nested():  # all of it or nothing (the state stays used)
            signed = await social.sign_in_user(db, found.id, who)
    except social.SignInFailed as failed:
        return _redirect(_with_error(error_url, failed.code), settings)
    _, token = await service.create_session(
        db, signed.user, client_info(request), session_policy(settings)
    )
    target = (pending.new_user_url if signed.is_new else None) or pending.callback_url
    response = _redirect(target, settings)
    set_session_cookie(response, settings, token)
    return response


@router.get("/error", dependencies=[PUBLIC], response_class=HTMLResponse)
async def error_page(
    error: Annotated[str, Query(max_length=200)] = "unknown_error",
) -> HTMLResponse:
    """The page a failed social sign-in lands on when no `errorCallbackURL` was given."""
    text = escape(error)
    body = f"<!doctype html><title>Sign-in failed</title><h1>Sign-in failed</h1><p>{text}</p>"
    return HTMLResponse(body, status_code=400)


@router.get("/list-accounts", response_model=list[AccountOut])
async def list_accounts(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """The ways you sign in: `credential` (email and password) and each linked provider."""
    return await linked_accounts(db, user)


@router.post("/unlink-account")
async def unlink_account(body: UnlinkBody, user: CurrentUser, db: SessionDep) -> Response:
    """Unlink a provider (by `accountId` or `providerId`); the last way to sign in stays."""
    await unlink(db, user, account_id=body.accountId, provider_id=body.providerId)
    return JSONResponse({"status": True})
