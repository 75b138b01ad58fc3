"""Who is calling: a session cookie, a bearer session token, or a bearer API key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from everything_app.auth.apikeys import looks_like_key
from everything_app.auth.cookies import read_session_cookie
from everything_app.auth.credentials import (
    CredentialCache,
    CredentialRules,
    UserSnapshot,
    verify_credential,
)
from everything_app.auth.credentials import Principal as Principal  # re-exported
from everything_app.auth.models import User
from everything_app.auth.oidc import oidc_verifier
from everything_app.auth.service import ClientInfo, SessionPolicy
from everything_app.core.db import SAFE_METHODS, act_for_request
from everything_app.core.deps import app_settings
from everything_app.core.errors import BadRequest, Forbidden, Unauthorized
from everything_app.core.origins import connection_origin_refusal
from everything_app.settings import Settings

# Credentials in a URL end up in proxy logs and browser history, so they are refused.
QUERY_CREDENTIAL_NAMES = frozenset({"api_key", "apikey", "key", "token", "access_token"})


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        ttl=timedelta(seconds=settings.session_ttl_seconds),
        update_age=timedelta(seconds=settings.session_update_age_seconds),
    )


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip_address=request.state.client_ip, user_agent=request.headers.get("user-agent")
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def check_cookie_origin(request: Request, settings: Settings) -> None:
    """CSRF: browsers attach the session cookie to cross-site requests, so a write that the
    cookie authenticates must come from a trusted origin (better-auth's check: `Origin`, else
    `Referer`). Decided here, where the credential is resolved, so it applies exactly to the
    requests the cookie authenticates: never to a bearer token or API key, which a browser does
    not attach on its own, whatever cookies ride along."""
    if request.method in SAFE_METHODS:
        return
    value = request.headers.get("origin") or request.headers.get("referer")
    refusal = connection_origin_refusal(request, value, settings)
    if refusal is not None:
        raise Forbidden(refusal.message, code=refusal.code)


def refuse_foreign_sign_in(request: Request, settings: Settings) -> None:
    """Login CSRF: a page on a foreign origin must not sign a browser in (or up) to an
    account of its choosing. Browsers always send `Origin` on a cross-origin POST, so a sent
    Origin must be trusted; scripts and SDKs, which send none, are not affected."""
    value = request.headers.get("origin")
    if value is None:
        return
    refusal = connection_origin_refusal(request, value, settings)
    if refusal is not None:
        raise Forbidden(refusal.message, code=refusal.code)


def credential_cache(request: HTTPConnection) -> CredentialCache | None:
    """This process's verified-credential cache (None in an app without a lifespan)."""
    cache: CredentialCache | None = getattr(request.app.state, "credentials", None)
    return cache


def credential_rules(conn: HTTPConnection, settings: Settings) -> CredentialRules:
    """What this server checks a credential against (auth.credentials.verify_credential):
    made once per app and settings, on the first request after start-up."""
    state = conn.app.state
    found: tuple[Settings, CredentialRules] | None = getattr(state, _RULES, None)
    if found is not None and found[0] is settings:
        return found[1]
    rules = CredentialRules(
        key_prefix=settings.api_key_prefix,
        policy=session_policy(settings),
        cache=credential_cache(conn),
        oidc=oidc_verifier(conn),
    )
    if rules.cache is not None:  # the lifespan has run: nothing here changes any more
        setattr(state, _RULES, (settings, rules))
    return rules


_RULES = "credential_rules"


async def _resolve(request: Request, settings: Settings) -> Principal | None:
    if request.scope["query_string"] and QUERY_CREDENTIAL_NAMES.intersection(
        request.query_params.keys()
    ):
        raise BadRequest(
            "Credentials are not accepted in the URL; send them in the Authorization header.",
            code="credentials_in_query",
        )
    bearer = _bearer(request)
    token = bearer if bearer is not None else read_session_cookie(request, settings)
    if token is None:
        return None
    state = request.app.state
    principal = await verify_credential(
        state.sessionmaker,
        getattr(state, "changes", None),
        token,
        via_bearer=bearer is not None,
        rules=(rules := credential_rules(request, settings)),
    )
    if principal is None:
        if bearer is not None and looks_like_key(bearer, settings.api_key_prefix):
            raise Unauthorized(
                "The API key is invalid, revoked or expired.", code="invalid_api_key"
            )
        if bearer is not None and rules.oidc is not None and rules.oidc.claims_issuer(bearer):
            raise Unauthorized("The token is invalid or expired.", code="invalid_token")
        return None
    if bearer is None:
        check_cookie_origin(request, settings)
    return principal


# The caller, once resolved, on the request's scope: every dependency below asks for it
# through `_caller`, which resolves it at most once per request.
_CALLER = "everything_app.caller"


async def _caller(request: Request) -> Principal | None:
    if _CALLER in request.scope:
        found: Principal | None = request.scope[_CALLER]
        return found
    principal = await _resolve(request, app_settings(request))
    if principal is not None:
        # The request's unit of work acts for the caller (row-level security on PostgreSQL);
        # it costs no round trip: the scope is sent with the transaction's first statement.
        account = principal.account
        await act_for_request(request, account.id, admin=account.is_admin)
        request.state.user_id = str(account.id)  # for the access log
    request.scope[_CALLER] = principal
    return principal


# Each dependency below takes only the request and calls `_caller`: a chain of dependencies
# (account -> principal -> optional principal) cost FastAPI a solving pass per link on every
# request, the hottest path there is.


async def optional_principal(request: Request) -> Principal | None:
    """The caller, verified in a unit of work of its own, or from the cache with no unit of
    work at all (auth.credentials.verify_credential); a sliding expiry or a key's last use,
    when due, is committed there."""
    return await _caller(request)


async def require_principal(request: Request) -> Principal:
    principal = await _caller(request)
    if principal is None:
        raise Unauthorized()
    return principal


async def require_user(request: Request) -> User:
    return (await require_principal(request)).user


async def require_account(request: Request) -> UserSnapshot:
    """The caller as verified, for routes that need only who it is (no ORM object)."""
    return (await require_principal(request)).account


async def require_admin(request: Request) -> User:
    user = await require_user(request)
    if not user.is_admin:
        raise Forbidden("This needs an administrator.", code="admin_required")
    return user


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
CurrentUser = Annotated[User, Depends(require_user)]
CurrentAccount = Annotated[UserSnapshot, Depends(require_account)]
AdminUser = Annotated[User, Depends(require_admin)]
