"""The server's own settings: storage, the public origin, workers, the database pool."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from everything_app.core.origins import normalize_origin, trusted_origin_set

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says)."""
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    if hasattr(os, "sched_getaffinity") and not hasattr(os, "process_cpu_count"):
        count = len(os.sched_getaffinity(0))
    return max(1, min(int(count or 1), 64))


def default_workers(data: dict[str, object]) -> int:
    """Every core, when everything the workers must share is shared: with REDIS_URL the rate
    limits, the change bus (live queries and credential revocations) live in Redis. Without
    it, 1: on SQLite each worker would hear only its own writes (a live query in one worker
    would miss a write made in another, and a credential revoked in one would stay cached
    in another for AUTH_CACHE_SECONDS); on PostgreSQL the bus is shared (NOTIFY), but rate
    limits would be counted per worker, N times looser. WORKERS overrides this."""
    return cores() if data.get("redis_url") else 1


def _async_driver(url: str) -> str:
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class ServerSettings(BaseSettings):
    # Where the embedded database and the generated secret live.
    data_dir: Path = Path("data")
    database_url: str | None = None
    # `migrate` connects with this (the tables' owner) when set; `serve` uses DATABASE_URL.
    migration_database_url: str | None = None
    # PostgreSQL: the NOLOGIN role the migrations grant data access to, and that a privileged
    # login (superuser or BYPASSRLS) switches to, so requests always run under row-level
    # security (see core.rls and the README).
    db_runtime_role: str = Field(default="everything_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so several deployments can share one Redis.
    redis_prefix: str = Field(default="ea", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    secret_key: SecretStr | None = None

    # The public origin of this server; an https origin turns on secure cookies and HSTS.
    base_url: str = "http://localhost:8000"
    trusted_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Default: every core when REDIS_URL is set, else 1 (see `default_workers`).
    workers: int = Field(default_factory=lambda data: default_workers(data), ge=1, le=64)
    auto_migrate: bool = True
    # Swagger UI at /docs (assets served from the package, strict CSP); off removes it.
    docs_enabled: bool = True
    # FastAPI's native OpenTelemetry (spans and metrics through the global providers an SDK
    # or `opentelemetry-instrument` configures). Off by default: on, every request first
    # asks the global providers whether anyone configured them.
    opentelemetry: bool = False
    # Per worker. The defaults share 30 connections among the workers (at least 4 each), so
    # several workers stay under PostgreSQL's max_connections (100). No overflow by default:
    # an overflow connection is closed again as soon as it is returned, so under sustained
    # load every request beyond the pool paid a new connection (TLS attempt, role check).
    db_pool_size: int = Field(
        default_factory=lambda data: max(4, 30 // data["workers"]), ge=1, le=200
    )
    db_max_overflow: int = Field(default=0, ge=0, le=400)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The server's event loop. The standard library's by default: under saturation uvloop
    # served some connections far later than others (64 connections, bench/loops.py: a
    # session check's p99 ~0.9 s against ~70 ms on PostgreSQL, ~0.44 s against ~65 ms on
    # SQLite; the task list on PostgreSQL ~1.2 s against ~0.55 s; about the same req/s). Only
    # the SQLite task list, whose queries wait on aiosqlite's threads, had the shorter tail
    # with uvloop (~0.7 s against ~1.15 s).
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    # How long an idle keep-alive connection stays open. Longer than what clients and
    # proxies keep theirs (Node's agent 5 s, nginx's upstream pool 60 s): when the server
    # closes first, a request sent on the connection at that moment is reset (ECONNRESET,
    # a 502 from the proxy), and nobody retries a POST.
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)

    @field_validator("trusted_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or normalize_origin(value) is None
        ):
            raise ValueError(
                "BASE_URL must be an absolute http(s) URL, e.g. https://api.example.com"
            )
        return value.rstrip("/")

    @field_validator("trusted_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path not in ("", "/")
                or normalize_origin(origin) is None
            ):
                raise ValueError(
                    f"TRUSTED_ORIGINS entry {origin!r} is not an origin like https://app.example.com"
                )
        return [origin.rstrip("/") for origin in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            ipaddress.ip_network(proxy, strict=False)  # raises ValueError with a clear message
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: the embedded SQLite file unless DATABASE_URL is set."""
        if not self.database_url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'everything.db').resolve()}"
        return _async_driver(self.database_url)

    @property
    def resolved_migration_database_url(self) -> str:
        """What migrations connect with: MIGRATION_DATABASE_URL, else the serving URL."""
        if self.migration_database_url:
            return _async_driver(self.migration_database_url)
        return self.resolved_database_url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def base_origin(self) -> str:
        origin = normalize_origin(self.base_url)
        assert origin is not None  # BASE_URL is validated as an absolute http(s) URL
        return origin

    @cached_property
    def all_trusted_origins(self) -> frozenset[str]:
        """BASE_URL's origin and TRUSTED_ORIGINS, serialized as browsers send `Origin`
        (core.origins), so CORS, CSRF and redirect checks compare exact strings."""
        return trusted_origin_set([self.base_url, *self.trusted_origins])

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in self.trusted_proxies)

    @cached_property
    def secret(self) -> str:
        """SECRET_KEY, or one generated once and kept (mode 0600) in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_FILE_NAME
        if not path.exists():
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Write a private temp file, then hard-link it into place: the link is atomic and
            # fails if another worker won the race, so every worker ends up with one secret.
            fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".secret-")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        value = path.read_text().strip()
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"{path} holds a secret shorter than {MIN_SECRET_LENGTH} characters")
        return value
