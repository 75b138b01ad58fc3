"""Bearer JWTs from external OpenID Connect issuers (Clerk, Auth0, Supabase Auth, Keycloak…).

`OIDC_ISSUERS` names the issuers we accept and, for each, the audience its tokens must be
for. A token is checked with joserfc against the issuer's JWKS, which is cached (for
`OIDC_JWKS_CACHE_SECONDS`) and fetched again when a token names a key id it does not hold
(at most once per `OIDC_JWKS_REFETCH_SECONDS`), so a key rotation at the issuer is picked up
without a restart, and a flood of made-up key ids costs the issuer nothing.

Only asymmetric algorithms are accepted, and only one the key itself allows: `none` and the
HMAC family are refused outright (an HS256 token "signed" with the issuer's public key is the
classic confusion attack). `iss`, `aud`, `exp`, `sub` must be present; `exp`, `nbf` and
`iat` are checked with `OIDC_LEEWAY_SECONDS` of clock skew.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from starlette.requests import HTTPConnection

from everything_app.core.errors import ServiceUnavailable
from everything_app.core.logging import get_logger
from everything_app.settings import Settings
from everything_app.settings.oidc import OidcIssuer, checked_url

log = get_logger(__name__)

# The asymmetric signature algorithms (RFC 7518, RFC 8037, RFC 9864) and the key type each
# needs. Nothing else is ever passed to joserfc as allowed.
ASYMMETRIC: dict[str, str] = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
    "Ed25519": "OKP",
}
MAX_TOKEN_LENGTH = 16_384


@dataclass(frozen=True)
class VerifiedToken:
    """What a verified token says about its bearer."""

    issuer: str
    subject: str
    expires_at: datetime
    email: str | None
    email_verified: bool
    name: str | None
    picture: str | None
    claims: dict[str, Any]


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A compact JWS's header and claims, unverified (to choose the issuer and key), or None
    when `token` is not shaped like a signed JWT."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        return None
    head, body, _ = token.split(".")
    try:
        header, claims = _b64json(head), _b64json(body)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def _issuer_of(claims: dict[str, Any]) -> str:
    iss = claims.get("iss")
    return iss if isinstance(iss, str) else ""


def looks_like_jwt(token: str) -> bool:
    return unverified_parts(token) is not None


def verified_email(claims: dict[str, Any]) -> tuple[str | None, bool]:
    """The `email` claim and whether the issuer says it is verified (`email_verified` true,
    or the string "true" some issuers send)."""
    email = claims.get("email")
    if not isinstance(email, str) or not email or len(email) > 320:
        return None, False
    flag = claims.get("email_verified")
    return email, flag is True or flag == "true"


@dataclass
class _Keys:
    keys: KeySet
    fetched_at: float  # time.monotonic()


class IssuerKeys:
    """One issuer's JWKS, cached; fetched again when old, or when a token names a key id
    it does not hold (rate-limited)."""

    def __init__(self, issuer: OidcIssuer, verifier: OidcVerifier) -> None:
        self.issuer = issuer
        self._verifier = verifier
        self._jwks_url = issuer.jwks_url
        self._cached: _Keys | None = None
        self._last_attempt = float("-inf")
        self._last_miss = float("-inf")  # the last refetch made for an unknown key id
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None, alg: str) -> Any | None:
        """The key that should have signed a token with this header, or None."""
        cached = self._cached
        now = time.monotonic()
        if cached is None or now - cached.fetched_at >= self._verifier.cache_seconds:
            cached = await self._refresh(force=cached is None)
        found = _pick(cached.keys, kid, alg) if cached is not None else None
        # Perhaps rotated: fetch again, unless a miss did so a moment ago.
        since = time.monotonic() - self._last_miss
        if found is None and cached is not None and since >= self._verifier.refetch_seconds:
            self._last_miss = time.monotonic()
            cached = await self._refresh(force=True)
            found = _pick(cached.keys, kid, alg) if cached is not None else None
        return found

    async def _refresh(self, *, force: bool) -> _Keys | None:
        before = self._cached
        async with self._lock:
            if self._cached is not before:  # another request refreshed meanwhile
                return self._cached
            if not force and time.monotonic() - self._last_attempt < 1.0:
                return self._cached  # failed a moment ago: keep the stale keys a while
            self._last_attempt = time.monotonic()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, JoseError) as exc:
                log.warning("oidc_jwks_fetch_failed", issuer=self.issuer.issuer, error=repr(exc))
                if self._cached is None:
                    raise ServiceUnavailable(
                        "The identity provider's keys could not be fetched.",
                        code="identity_provider_unavailable",
                    ) from exc
                return self._cached  # keep using what we had
            self._cached = _Keys(keys, time.monotonic())
            return self._cached

    async def _fetch(self) -> KeySet:
        # A client per fetch: fetches are rare, and the verifier outlives any one event loop.
        async with httpx.AsyncClient(timeout=self._verifier.timeout) as client:
            return await self._fetch_with(client)

    async def _fetch_with(self, client: httpx.AsyncClient) -> KeySet:
        if self._jwks_url is None:
            discovery = self.issuer.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = await client.get(discovery)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict) or document.get("issuer") != self.issuer.issuer:
                raise ValueError("the discovery document names another issuer")
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError("the discovery document has no jwks_uri")
            self._jwks_url = checked_url(jwks_uri, "jwks_uri")
        response = await client.get(self._jwks_url)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("not a JWKS")
        # Only public keys of asymmetric types; a symmetric ("oct") key is never trusted.
        usable = [
            k
            for k in data["keys"]
            if isinstance(k, dict)
            and k.get("kty") in ("RSA", "EC", "OKP")
            and k.get("use", "sig") == "sig"
            and not any(p in k for p in ("d", "p", "q"))
        ]
        keys = KeySet.import_key_set({"keys": usable})
        log.info("oidc_jwks_fetched", issuer=self.issuer.issuer, keys=len(usable))
        return keys


def _pick(keys: KeySet, kid: str | None, alg: str) -> Any | None:
    """The key with this `kid` (or, without one, the only key that fits), if it may sign
    with `alg`: the right key type, and the key's own `alg` when it declares one."""
    wanted = ASYMMETRIC[alg]
    candidates = [
        key
        for key in keys
        if key.key_type == wanted and (kid is None or key.kid == kid) and key.get("alg", alg) == alg
    ]
    if kid is None and len(candidates) != 1:
        return None
    return candidates[0] if candidates else None


class OidcVerifier:
    """Checks bearer JWTs against the configured issuers."""

    def __init__(
        self,
        issuers: list[OidcIssuer],
        *,
        leeway: int,
        cache_seconds: float,
        refetch_seconds: float,
        timeout: float,
    ) -> None:
        self.leeway = leeway
        self.cache_seconds = cache_seconds
        self.refetch_seconds = refetch_seconds
        self.timeout = timeout
        self._issuers = {item.issuer: IssuerKeys(item, self) for item in issuers}

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier:
        return cls(
            settings.oidc_issuers,
            leeway=settings.oidc_leeway_seconds,
            cache_seconds=settings.oidc_jwks_cache_seconds,
            refetch_seconds=settings.oidc_jwks_refetch_seconds,
            timeout=settings.oidc_http_timeout_seconds,
        )

    def claims_issuer(self, token: str) -> bool:
        """Whether `token` looks like a JWT from one of our issuers (unverified)."""
        parts = unverified_parts(token)
        return parts is not None and _issuer_of(parts[1]) in self._issuers

    async def verify(self, token: str) -> VerifiedToken | None:
        """The token's bearer, or None when it is not a valid token of one of our issuers
        for our audience (bad signature, unknown key, wrong algorithm, expired…)."""
        parts = unverified_parts(token)
        if parts is None:
            return None
        header, unverified = parts
        issuer = self._issuers.get(_issuer_of(unverified))
        alg = header.get("alg")
        if issuer is None or not isinstance(alg, str) or alg not in ASYMMETRIC:
            return None
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            return None
        key = await issuer.key_for(kid, alg)
        if key is None:
            return None
        try:
            with warnings.catch_warnings():  # "EdDSA is deprecated" (RFC 9864): still sound
                warnings.simplefilter("ignore", SecurityWarning)
                decoded = jwt.decode(token, key, algorithms=[alg])
            JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": issuer.issuer.issuer},
                aud={"essential": True, "values": list(issuer.issuer.audiences)},
                sub={"essential": True},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            return None
        claims = decoded.claims
        subject, exp = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not 0 < len(subject) <= 255:
            return None
        if claims.get("iss") != issuer.issuer.issuer or not isinstance(exp, int | float):
            return None
        try:
            expires_at = datetime.fromtimestamp(float(exp), UTC)
        except (OverflowError, ValueError, OSError):  # beyond what a datetime holds
            return None
        email, email_verified = verified_email(claims)
        name = claims.get("name") or claims.get("preferred_username")
        picture = claims.get("picture")
        return VerifiedToken(
            issuer=issuer.issuer.issuer,
            subject=subject,
            expires_at=expires_at,
            email=email,
            email_verified=email_verified,
            name=name if isinstance(name, str) else None,
            picture=picture if isinstance(picture, str) and len(picture) <= 2048 else None,
            claims=claims,
        )


def oidc_verifier(conn: HTTPConnection) -> OidcVerifier | None:
    """The app's verifier (made on first use; None when OIDC_ISSUERS is empty). Its caches
    are this process's: the JWKS of each issuer, fetched when needed."""
    state = conn.app.state
    verifier: OidcVerifier | None = getattr(state, "oidc_verifier", None)
    if verifier is None:
        settings: Settings = state.settings
        if not settings.oidc_issuers:
            return None
        verifier = state.oidc_verifier = OidcVerifier.from_settings(settings)
    return verifier
