"""Other identity providers: bearer JWTs from external OIDC issuers, and social sign-in."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Annotated

from ada_url import URL
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings

_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(value: str, what: str) -> str:
    """An https URL (plain http only on a loopback host, for local development and tests)."""
    try:
        url = URL(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a URL") from None
    if url.protocol == "https:" or (url.protocol == "http:" and _is_loopback(url.hostname)):
        return value
    raise ValueError(f"{what} {value!r} must be https (http only on a loopback host)")


class OidcIssuer(BaseModel):
    """One issuer whose JWTs are accepted as bearer credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=2000)
    # One audience, or several: a token naming any of them is for us.
    audience: Annotated[list[str], Field(min_length=1)] | str
    # Defaults to the `jwks_uri` of the issuer's /.well-known/openid-configuration.
    jwks_url: str | None = None

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return checked_url(value, "issuer")

    @field_validator("jwks_url")
    @classmethod
    def _jwks(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value, "jwks_url")

    @property
    def audiences(self) -> tuple[str, ...]:
        return (self.audience,) if isinstance(self.audience, str) else tuple(self.audience)


class OAuthProvider(BaseModel):
    """A generic OpenID Connect provider for social sign-in, found by its discovery URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str = Field(default="", max_length=2000)
    discovery_url: str
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])

    @field_validator("discovery_url")
    @classmethod
    def _discovery(cls, value: str) -> str:
        return checked_url(value, "discovery_url")


class OidcSettings(BaseSettings):
    # JSON: [{"issuer": "https://…", "audience": "…", "jwks_url": "https://…"?}, …]
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    # Clock skew allowed on `exp`, `nbf` and `iat`.
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # How long a fetched JWKS (and discovery document) is used before it is fetched again.
    oidc_jwks_cache_seconds: int = Field(default=600, ge=0, le=86400)
    # A token with an unknown `kid` refetches the JWKS at most this often per issuer.
    oidc_jwks_refetch_seconds: float = Field(default=10.0, ge=0, le=3600)
    oidc_http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    # Social sign-in (better-auth's /sign-in/social). A provider is on when its id is set.
    github_client_id: str | None = None
    github_client_secret: str | None = None
    # GitHub Enterprise Server (or a stand-in): its web and API base URLs.
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    google_client_id: str | None = None
    google_client_secret: str | None = None
    # JSON: [{"id", "client_id", "client_secret", "discovery_url", "scopes"?}, …]
    oauth_providers: list[OAuthProvider] = Field(default_factory=list)
    # How long a sign-in may take between the redirect to the provider and the callback.
    oauth_state_seconds: int = Field(default=600, ge=30, le=3600)

    @field_validator("github_url", "github_api_url")
    @classmethod
    def _github(cls, value: str) -> str:
        return checked_url(value, "GitHub URL").rstrip("/")

    @field_validator("oidc_issuers")
    @classmethod
    def _unique_issuers(cls, value: list[OidcIssuer]) -> list[OidcIssuer]:
        issuers = [item.issuer for item in value]
        if len(set(issuers)) != len(issuers):
            raise ValueError("an issuer is listed twice in OIDC_ISSUERS")
        return value

    @field_validator("oauth_providers")
    @classmethod
    def _unique_providers(cls, value: list[OAuthProvider]) -> list[OAuthProvider]:
        ids = [item.id for item in value]
        if len(set(ids)) != len(ids) or {"github", "google", "credential"} & set(ids):
            raise ValueError("OAUTH_PROVIDERS ids must be unique and not github/google/credential")
        return value
