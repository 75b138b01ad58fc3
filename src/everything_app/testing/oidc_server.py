"""Stand-ins for an OpenID Connect issuer and an OAuth 2.0 / OIDC authorization server.

`OidcIssuerStandin` serves discovery (`/.well-known/openid-configuration`) and its JWKS
(`/jwks`), and signs tokens with joserfc: RS256, ES256 or EdDSA keys, rotated on demand.

`OAuthServerStandin` adds the authorization code flow with PKCE: `/authorize` (signs in
whoever `login()` named and redirects back with a code, as a provider does after consent),
`/token` (checks the client, the redirect URI and the S256 code verifier; each code works
once) and `/userinfo`. Its id_tokens carry the `nonce` the client sent.

    issuer = OidcIssuerStandin()
    async with issuer.running() as url:   # a real server on a loopback port
        token = issuer.issue(sub="user-1", aud="my-api")

Both import nothing of the app: tests, and users testing their own set-up, run them as is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeyParameters, OKPKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from everything_app.testing.serve import serve

Key = RSAKey | ECKey | OKPKey
_ALG_OF_TYPE = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}


def generate_key(alg: str = "RS256", kid: str | None = None) -> Key:
    """A new private signing key for `alg` (RS256, ES256 or EdDSA)."""
    kid = kid or secrets.token_hex(8)
    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg.startswith(("RS", "PS")):
        return RSAKey.generate_key(2048, parameters=params)
    if alg.startswith("ES"):
        return ECKey.generate_key("P-256", parameters=params)
    return OKPKey.generate_key("Ed25519", parameters=params)


class OidcIssuerStandin:
    """An issuer of signed JWTs with a discovery document and a JWKS."""

    def __init__(self, *, alg: str = "RS256") -> None:
        self.keys: list[Key] = [generate_key(alg)]
        self.issuer = ""  # set by `running()` (or by you, when you serve `app` yourself)
        self.jwks_requests = 0
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        return [
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/jwks", self._jwks),
        ]

    @property
    def signing_key(self) -> Key:
        return self.keys[-1]

    def rotate(self, *, alg: str | None = None, keep_old: bool = True) -> Key:
        """A new signing key; the old ones stay published unless `keep_old` is False."""
        alg = alg or str(self.signing_key.get("alg") or _ALG_OF_TYPE[self.signing_key.key_type])
        key = generate_key(alg)
        self.keys = [*self.keys, key] if keep_old else [key]
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        }

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(self.discovery())

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse(self.jwks())

    def issue(
        self,
        *,
        sub: str,
        aud: str | list[str],
        expires_in: int = 300,
        not_before: int | None = None,
        key: Key | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed JWT from this issuer (`claims` add to or override the standard ones;
        `key` signs instead of the current key; `header` adds header fields)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": aud,
            "iat": now,
            "exp": now + expires_in,
            # Unique per token, as real issuers do: two tokens issued in one second with the
            # same claims are still two tokens (a verified one is cached by its text).
            "jti": secrets.token_urlsafe(12),
        }
        if not_before is not None:
            body["nbf"] = not_before
        body.update(claims)
        key = key or self.signing_key
        alg = str(key.get("alg") or _ALG_OF_TYPE[key.key_type])
        head = {"alg": alg, "kid": key.kid, "typ": "JWT", **(header or {})}
        with warnings.catch_warnings():  # "EdDSA is deprecated" (RFC 9864)
            warnings.simplefilter("ignore", SecurityWarning)
            return jwt.encode(head, body, key, algorithms=[alg])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 at a free port; yields the issuer URL (also `self.issuer`)."""
        async with serve(self.app) as url:
            self.issuer = url
            yield url


def unsigned_token(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """A JWT with `alg: none` (no signature): what no verifier may accept."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', **(header or {})})}.{part(claims)}."


@dataclass
class User:
    """Who the authorization server signs in at `/authorize`."""

    sub: str
    email: str | None = None
    email_verified: bool = True
    name: str | None = None
    picture: str | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str | None
    user: User


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


class OAuthServerStandin(OidcIssuerStandin):
    """An OAuth 2.0 authorization server and OpenID provider (authorization code + PKCE)."""

    def __init__(self, *, alg: str = "RS256") -> None:
        self.clients: dict[str, Client] = {}
        self.user: User | None = None
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, tuple[User, str]] = {}
        # Misbehaviour, for tests: the id_token's audience, or no nonce check by the client.
        self.id_token_audience: str | None = None
        self.token_requests: list[dict[str, str]] = []
        super().__init__(alg=alg)

    def _routes(self) -> list[Route]:
        return [
            *super()._routes(),
            Route("/authorize", self._authorize),
            Route("/token", self._token, methods=["POST"]),
            Route("/userinfo", self._userinfo),
            # GitHub's shapes (GITHUB_URL and GITHUB_API_URL both pointed here).
            Route("/login/oauth/authorize", self._authorize),
            Route("/login/oauth/access_token", self._token, methods=["POST"]),
            Route("/user", self._github_user),
            Route("/user/emails", self._github_emails),
        ]

    def register(self, client_id: str, client_secret: str, redirect_uri: str) -> Client:
        client = Client(client_id, client_secret, [redirect_uri])
        self.clients[client_id] = client
        return client

    def login(self, user: User) -> None:
        """Who signs in (consents) at the next `/authorize`."""
        self.user = user

    def discovery(self) -> dict[str, Any]:
        return {
            **super().discovery(),
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        state = q.get("state")

        def back(**params: str) -> Response:
            if state is not None:
                params["state"] = state
            params["iss"] = self.issuer
            return RedirectResponse(f"{redirect_uri}?{urlencode(params)}", status_code=302)

        if q.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE S256 is required")
        if self.user is None:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client.client_id,
            redirect_uri,
            q["code_challenge"],
            q.get("scope", ""),
            q.get("nonce"),
            self.user,
        )
        return back(code=code)

    def _client_of(self, request: Request, form: dict[str, str]) -> Client | None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:]).decode()
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote(raw_id), unquote(raw_secret)
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.client_secret, secret or ""):
            return None
        return client

    async def _token(self, request: Request) -> Response:
        # application/x-www-form-urlencoded, read without python-multipart
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        self.token_requests.append(form)
        client = self._client_of(request, form)
        if client is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if (
            grant is None
            or grant.client_id != client.client_id
            or grant.redirect_uri != form.get("redirect_uri")
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not verifier or not secrets.compare_digest(challenge, grant.challenge):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                status_code=400,
            )
        access = secrets.token_urlsafe(24)
        self._access[access] = (grant.user, grant.scope)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            claims: dict[str, Any] = {"azp": client.client_id, **self._claims(grant.user)}
            if grant.nonce is not None:
                claims["nonce"] = grant.nonce
            body["id_token"] = self.issue(
                sub=grant.user.sub, aud=self.id_token_audience or client.client_id, **claims
            )
        return JSONResponse(body, headers={"cache-control": "no-store"})

    def _claims(self, user: User) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        if user.email is not None:
            claims["email"] = user.email
            claims["email_verified"] = user.email_verified
        if user.name is not None:
            claims["name"] = user.name
        if user.picture is not None:
            claims["picture"] = user.picture
        return claims

    def _bearer_user(self, request: Request) -> User | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = self._access.get(token) if scheme.lower() in ("bearer", "token") else None
        return found[0] if found is not None else None

    async def _userinfo(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": user.sub, **self._claims(user)})

    @staticmethod
    def github_id(user: User) -> int:
        """The numeric id GitHub would give this user."""
        return int(hashlib.sha256(user.sub.encode()).hexdigest()[:12], 16)

    async def _github_user(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        public = user.email if user.email_verified else None
        return JSONResponse(
            {
                "id": self.github_id(user),
                "login": user.sub,
                "name": user.name,
                "email": public,
                "avatar_url": user.picture,
            }
        )

    async def _github_emails(self, request: Request) -> Response:
        user = self._bearer_user(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        emails = []
        if user.email is not None:
            emails.append(
                {
                    "email": user.email,
                    "primary": True,
                    "verified": user.email_verified,
                    "visibility": "public",
                }
            )
        return JSONResponse(emails)
