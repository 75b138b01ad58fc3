"""Social sign-in (better-auth's `/sign-in/social` and `/callback/{provider}`): GitHub, Google
and any OpenID Connect provider named in `OAUTH_PROVIDERS`.

The flow is OAuth 2.0's authorization code grant with PKCE (S256), through authlib's client:

1. `start`: a random `state`, PKCE verifier and (OIDC) nonce; the state is stored hashed
   with what the callback needs (`oauth_states`), and handed to the browser in a signed
   cookie too, so only the browser that began a sign-in can finish it.
2. `finish`: the callback's `state` must equal the cookie's, and its row is deleted as it
   is read (a state works once, and not after `OAUTH_STATE_SECONDS`); the code is exchanged
   with the verifier; an OIDC provider's id_token is verified (signature against its JWKS,
   `iss`, `aud` = our client id, `exp`, and the nonce); GitHub's user and verified emails
   come from its API.
3. `sign_in_user`: the account (provider, account id) is the user it was linked to; a new
   one is linked to the user with the same email only when both sides verified it (the
   provider says so, and our user confirmed it by mail); otherwise a new user is created.

The provider's tokens are not stored: they are used once, here, to learn who signed in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from everything_app.auth.external import new_user, usable_email
from everything_app.auth.links import Account, OAuthState
from everything_app.auth.models import User
from everything_app.auth.oidc import OidcVerifier
from everything_app.auth.service import act_as, get_user_by_email
from everything_app.core import rls
from everything_app.core.db import utcnow
from everything_app.core.errors import ServiceUnavailable
from everything_app.core.logging import get_logger
from everything_app.core.security import new_token, token_hash
from everything_app.settings import Settings
from everything_app.settings.oidc import OAuthProvider, OidcIssuer, checked_url

log = get_logger(__name__)

CALLBACK_PATH = "/api/auth/callback/"
CREDENTIAL = "credential"  # better-auth's provider id of the email/password account


class SignInFailed(Exception):
    """The callback can not sign anyone in; `code` is better-auth's error code (snake case),
    sent to the error URL as `?error=`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Provider:
    id: str
    kind: Literal["oidc", "github"]
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    userinfo_endpoint: str | None = None
    issuer: str | None = None
    jwks_uri: str | None = None
    discovery_url: str | None = None
    auth_method: str = "client_secret_basic"
    emails_endpoint: str | None = None  # GitHub's list of the user's emails
    _verifier: OidcVerifier | None = None
    _discovered_at: float = float("-inf")

    @property
    def discovered(self) -> bool:
        return self.discovery_url is None or bool(self.authorization_endpoint)


def _github(settings: Settings) -> Provider | None:
    if not settings.github_client_id:
        return None
    return Provider(
        id="github",
        kind="github",
        client_id=settings.github_client_id,
        client_secret=settings.github_client_secret or "",
        scopes=("read:user", "user:email"),
        authorization_endpoint=f"{settings.github_url}/login/oauth/authorize",
        token_endpoint=f"{settings.github_url}/login/oauth/access_token",
        userinfo_endpoint=f"{settings.github_api_url}/user",
        emails_endpoint=f"{settings.github_api_url}/user/emails",
        auth_method="client_secret_post",
    )


def _google(settings: Settings) -> Provider | None:
    if not settings.google_client_id:
        return None
    return Provider(
        id="google",
        kind="oidc",
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret or "",
        scopes=("openid", "email", "profile"),
        authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
        token_endpoint="https://oauth2.googleapis.com/token",  # noqa: S106 - a URL
        userinfo_endpoint="https://openidconnect.googleapis.com/v1/userinfo",
        issuer="https://accounts.google.com",
        jwks_uri="https://www.googleapis.com/oauth2/v3/certs",
        auth_method="client_secret_post",
    )


def _generic(config: OAuthProvider) -> Provider:
    return Provider(
        id=config.id,
        kind="oidc",
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=tuple(config.scopes),
        discovery_url=config.discovery_url,
    )


@dataclass
class Providers:
    """The configured providers of one app; a generic provider's discovery document is
    fetched on first use and again after `OIDC_JWKS_CACHE_SECONDS`."""

    settings: Settings
    by_id: dict[str, Provider] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        found = [_github(settings), _google(settings)]
        found += [_generic(item) for item in settings.oauth_providers]
        return cls(settings, {p.id: p for p in found if p is not None})

    async def get(self, provider_id: str) -> Provider | None:
        provider = self.by_id.get(provider_id)
        if provider is None:
            return None
        stale = time.monotonic() - provider._discovered_at >= self.settings.oidc_jwks_cache_seconds
        if provider.discovery_url is not None and (not provider.discovered or stale):
            try:
                await self._discover(provider)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("oauth_discovery_failed", provider=provider.id, error=repr(exc))
                if not provider.discovered:
                    raise ServiceUnavailable(
                        "The identity provider could not be reached.",
                        code="identity_provider_unavailable",
                    ) from exc
        return provider

    async def _discover(self, provider: Provider) -> None:
        assert provider.discovery_url is not None
        async with httpx.AsyncClient(timeout=self.settings.oidc_http_timeout_seconds) as http:
            response = await http.get(provider.discovery_url)
        response.raise_for_status()
        doc = response.json()
        if not isinstance(doc, dict):
            raise ValueError("not a discovery document")
        urls = {}
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(name)
            if not isinstance(value, str):
                raise ValueError(f"the discovery document has no {name}")
            urls[name] = checked_url(value, name)
        userinfo = doc.get("userinfo_endpoint")
        methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if provider.issuer not in (None, urls["issuer"]):
            provider._verifier = None  # the issuer changed: verify against the new one
        provider.issuer = urls["issuer"]
        provider.authorization_endpoint = urls["authorization_endpoint"]
        provider.token_endpoint = urls["token_endpoint"]
        provider.jwks_uri = urls["jwks_uri"]
        provider.userinfo_endpoint = (
            checked_url(userinfo, "userinfo_endpoint") if isinstance(userinfo, str) else None
        )
        provider.auth_method = (
            "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        )
        provider._discovered_at = time.monotonic()

    def verifier(self, provider: Provider) -> OidcVerifier:
        """Verifies the provider's id_tokens: its issuer, our client id as the audience."""
        if provider._verifier is None:
            assert provider.issuer is not None
            assert provider.jwks_uri is not None
            issuer = OidcIssuer(
                issuer=provider.issuer, audience=provider.client_id, jwks_url=provider.jwks_uri
            )
            settings = self.settings
            provider._verifier = OidcVerifier(
                [issuer],
                leeway=settings.oidc_leeway_seconds,
                cache_seconds=settings.oidc_jwks_cache_seconds,
                refetch_seconds=settings.oidc_jwks_refetch_seconds,
                timeout=settings.oidc_http_timeout_seconds,
            )
        return provider._verifier


def providers(conn: HTTPConnection) -> Providers:
    """The app's providers (made on first use)."""
    state = conn.app.state
    found: Providers | None = getattr(state, "oauth_providers", None)
    if found is None:
        found = state.oauth_providers = Providers.from_settings(state.settings)
    return found


def redirect_uri(settings: Settings, provider: Provider) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH + provider.id


def _client(settings: Settings, provider: Provider) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=provider.auth_method,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri(settings, provider),
        code_challenge_method="S256",
        timeout=settings.oidc_http_timeout_seconds,
    )


@dataclass(frozen=True)
class Started:
    url: str
    state: str


async def start(
    db: AsyncSession,
    settings: Settings,
    provider: Provider,
    *,
    callback_url: str,
    error_url: str | None,
    new_user_url: str | None,
    scopes: list[str] | None,
    login_hint: str | None,
) -> Started:
    """Begin a sign-in: remember it, and build the provider's authorization URL."""
    state, verifier = new_token(32), new_token(64)
    nonce = new_token(16) if provider.kind == "oidc" else None
    await db.execute(delete(OAuthState).where(OAuthState.expires_at <= utcnow()))
    db.add(
        OAuthState(
            state_hash=token_hash(state),
            provider_id=provider.id,
            code_verifier=verifier,
            nonce=nonce,
            callback_url=callback_url,
            error_url=error_url,
            new_user_url=new_user_url,
            expires_at=utcnow() + timedelta(seconds=settings.oauth_state_seconds),
        )
    )
    await db.flush()
    extra: dict[str, str] = {}
    if nonce is not None:
        extra["nonce"] = nonce
    if login_hint:
        extra["login_hint"] = login_hint
    if scopes:
        extra["scope"] = " ".join(dict.fromkeys([*provider.scopes, *scopes]))
    async with _client(settings, provider) as client:
        url, _ = client.create_authorization_url(
            provider.authorization_endpoint, state=state, code_verifier=verifier, **extra
        )
    return Started(url=str(url), state=state)


async def take_state(db: AsyncSession, state: str, provider_id: str) -> OAuthState:
    """The sign-in a callback's `state` belongs to, removed as it is read (single use)."""
    row = (
        await db.execute(
            delete(OAuthState)
            .where(OAuthState.state_hash == token_hash(state))
            .returning(OAuthState)
        )
    ).scalar_one_or_none()
    if row is None or row.provider_id != provider_id:
        raise SignInFailed("state_mismatch")
    if row.expires_at <= utcnow():
        raise SignInFailed("state_expired")
    return row


@dataclass(frozen=True)
class ProviderUser:
    account_id: str
    email: str | None
    email_verified: bool
    name: str | None
    image: str | None
    scope: str | None


async def finish(
    settings: Settings,
    registry: Providers,
    provider: Provider,
    pending: OAuthState,
    *,
    code: str,
    iss: str | None,
) -> ProviderUser:
    """Exchange the code (with the PKCE verifier) and learn who signed in."""
    if iss is not None and provider.issuer is not None and iss != provider.issuer:
        raise SignInFailed("issuer_mismatch")  # RFC 9207
    async with _client(settings, provider) as client:
        try:
            token = await client.fetch_token(
                provider.token_endpoint,
                code=code,
                code_verifier=pending.code_verifier,
                grant_type="authorization_code",
            )
        except Exception as exc:  # authlib's OAuthError, httpx's errors, a body not JSON
            log.info("oauth_code_refused", provider=provider.id, error=repr(exc))
            raise SignInFailed("invalid_code") from exc
        if not isinstance(token, dict) or not token.get("access_token"):
            raise SignInFailed("invalid_code")
        scope = token.get("scope") if isinstance(token.get("scope"), str) else None
        if provider.kind == "github":
            return await _github_user(client, provider, scope)
        return await _oidc_user(client, registry, provider, pending, token, scope)


async def _oidc_user(
    client: AsyncOAuth2Client,
    registry: Providers,
    provider: Provider,
    pending: OAuthState,
    token: dict[str, Any],
    scope: str | None,
) -> ProviderUser:
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed("unable_to_get_user_info")
    verified = await registry.verifier(provider).verify(id_token)
    if verified is None or verified.claims.get("nonce") != pending.nonce:
        log.info("oauth_id_token_refused", provider=provider.id)
        raise SignInFailed("unable_to_get_user_info")
    azp = verified.claims.get("azp")
    if azp is not None and azp != provider.client_id:
        raise SignInFailed("unable_to_get_user_info")
    claims: dict[str, Any] = dict(verified.claims)
    if provider.userinfo_endpoint and not claims.get("email"):
        try:
            response = await client.get(provider.userinfo_endpoint)
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError):
            info = None
        if isinstance(info, dict) and info.get("sub") == verified.subject:
            claims = {
                **info,
                **claims,
                "email": info.get("email"),
                "email_verified": info.get("email_verified"),
            }
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    flag = claims.get("email_verified")
    return ProviderUser(
        account_id=verified.subject,
        email=email,
        email_verified=flag is True or flag == "true",
        name=verified.name,
        image=verified.picture,
        scope=scope,
    )


async def _github_user(
    client: AsyncOAuth2Client, provider: Provider, scope: str | None
) -> ProviderUser:
    assert provider.userinfo_endpoint is not None
    assert provider.emails_endpoint is not None
    headers = {"Accept": "application/vnd.github+json"}
    try:
        response = await client.get(provider.userinfo_endpoint, headers=headers)
        response.raise_for_status()
        profile = response.json()
        response = await client.get(provider.emails_endpoint, headers=headers)
        emails = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed("unable_to_get_user_info") from exc
    if not isinstance(profile, dict) or not isinstance(profile.get("id"), int | str):
        raise SignInFailed("unable_to_get_user_info")
    primary = next(
        (
            e
            for e in emails
            if isinstance(e, dict) and e.get("primary") and isinstance(e.get("email"), str)
        )
        if isinstance(emails, list)
        else iter(()),
        None,
    )
    email = primary["email"] if primary else profile.get("email")
    name = profile.get("name") or profile.get("login")
    image = profile.get("avatar_url")
    return ProviderUser(
        account_id=str(profile["id"]),
        email=email if isinstance(email, str) else None,
        email_verified=bool(primary and primary.get("verified") is True),
        name=name if isinstance(name, str) else None,
        image=image if isinstance(image, str) and len(image) <= 2048 else None,
        scope=scope,
    )


@dataclass(frozen=True)
class SignedIn:
    user: User
    is_new: bool


async def sign_in_user(db: AsyncSession, provider_id: str, who: ProviderUser) -> SignedIn:
    """The user this provider account signs in as: the one it is linked to; else the user
    with its email, when the provider says the email is verified (linked from now on); else
    a new user. From then on `db` acts for that user."""
    await rls.act_as_system(db, tables=("accounts",), reason="social sign-in look-up")
    row = (
        await db.execute(
            select(Account, User)
            .join(User, User.id == Account.user_id)
            .where(Account.provider_id == provider_id, Account.account_id == who.account_id)
        )
    ).one_or_none()
    if row is not None:
        await act_as(db, row[1])
        return SignedIn(row[1], is_new=False)
    email = usable_email(who.email, True) if who.email else None
    existing = await get_user_by_email(db, email) if email is not None else None
    is_new = False
    if existing is not None:
        # Both must have proved the address. An unconfirmed local account may be a squatter's
        # (pre-account takeover: sign up with the victim's address and a password, wait for
        # the victim's social sign-in to be linked to it, keep the password): its owner
        # confirms the address by mail first (send-verification-email).
        if not who.email_verified or not existing.email_verified:
            raise SignInFailed("account_not_linked")
        user = existing
    else:
        # A new user takes the provider's address only when it is verified: an unverified
        # one would squat it (and could later be linked to whoever proves it).
        user = await new_user(
            db,
            email=email if who.email_verified else None,
            email_verified=who.email_verified,
            namespace=provider_id,
            subject=who.account_id,
            name=who.name,
            image=who.image,
        )
        is_new = True
    account = Account(
        user_id=user.id, provider_id=provider_id, account_id=who.account_id, scope=who.scope
    )
    db.add(account)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:  # the same account, linked by a concurrent callback
        raise SignInFailed("account_already_linked_to_different_user") from exc
    await act_as(db, user)
    return SignedIn(user, is_new=is_new)
