"""Configuration from the environment (12-factor), validated once at start-up."""

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

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


class Settings(BaseSettings):
    """Every setting has an environment variable of the same name in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

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
    # Per worker. The defaults share 30 connections among the workers (at least 4 each), so
    # several workers stay under PostgreSQL's max_connections (100). No overflow by default:
    # an overflow connection is closed again as soon as it is returned, so under sustained
    # load every request beyond the pool paid a new connection (TLS attempt, role check).
    db_pool_size: int = Field(
        default_factory=lambda data: max(4, 30 // data["workers"]), ge=1, le=200
    )
    db_max_overflow: int = Field(default=0, ge=0, le=400)

    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    session_update_age_seconds: int = Field(default=24 * 3600, ge=0)
    # How long a verified session or API key is trusted in a process without re-reading it.
    # Revocations end it at once on every instance (change events); this bounds only what
    # nobody announced. 0 reads the credential on every request.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    api_key_prefix: str = "ea_"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # Rate limits, in the `limits` library's notation ("N per period").
    rate_limit_sign_in_ip: str = "20/minute"
    rate_limit_sign_in_email_failures: str = "5/minute"
    rate_limit_sign_up_ip: str = "10/minute"
    rate_limit_key_create_user: str = "20/hour"
    # Calls to the OpenAI-compatible gateway (`/v1`), per API key (per user for sessions).
    rate_limit_gateway_key: str = "60/minute"
    rate_limit_chat_user: str = "30/minute"
    chat_max_concurrent_streams: int = Field(default=3, ge=1, le=10_000)
    # Admission control, per process (chat.admission): answers generated at once, and how many
    # requests may wait for one, for how long, before 503 `chat_busy` with Retry-After.
    chat_max_generations: int = Field(default=24, ge=1, le=10_000)
    chat_queue_size: int = Field(default=64, ge=0, le=100_000)
    chat_queue_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    # A second model call per new chat for its title, after the answer, at low priority; off:
    # the title is the first words of the first message (given at once, for free).
    chat_model_titles: bool = False
    # Seconds between writes of an answer still streaming (live views of it, and what is kept
    # if the server dies mid-answer); a resume replays it from memory, not from these.
    chat_flush_seconds: float = Field(default=2.0, ge=0, le=60)

    # Live queries (realtime/). The broker carries committed changes between instances:
    # auto = Redis when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY on PostgreSQL, else
    # in-process (one instance only).
    realtime_broker: Literal["auto", "memory", "postgres", "redis"] = "auto"
    realtime_heartbeat_seconds: float = Field(default=25.0, gt=0, le=300)
    # How often live sockets re-check their session or API key (revocations also close them
    # at once through change events; this is the backstop).
    realtime_revalidate_seconds: float = Field(default=5.0, gt=0, le=3600)
    # A socket whose client reads nothing for this long is closed as a slow consumer.
    realtime_send_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    realtime_max_connections: int = Field(default=10_000, ge=1)
    realtime_max_connections_per_user: int = Field(default=100, ge=1)
    realtime_max_subscriptions: int = Field(default=100, ge=1, le=10_000)
    realtime_max_message_bytes: int = Field(default=65_536, ge=1024, le=16_777_216)
    # Changes arriving within this window re-run an affected query once.
    realtime_debounce_ms: int = Field(default=5, ge=0, le=5000)
    realtime_query_concurrency: int = Field(default=4, ge=1, le=200)

    # Reservations: upcoming reservations one user may hold, how many days ahead
    # a slot may be booked, whether bookings start confirmed (else an admin confirms them),
    # and how early before its slot a reservation may join the service's queue.
    max_future_reservations: int = Field(default=10, ge=1, le=10_000)
    reservation_horizon_days: int = Field(default=90, ge=1, le=3650)
    reservations_auto_confirm: bool = False
    queue_checkin_early_minutes: int = Field(default=15, ge=0, le=1440)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    # GET /metrics is open (for a scraper on a private network) unless this is set; then it
    # needs `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: SecretStr | None = None
    # Errors are reported to Sentry when set (no personal data: see core.observability).
    sentry_dsn: SecretStr | None = None
    sentry_environment: str = "production"

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    ai_models: str | None = None
    ai_timeout_seconds: float = Field(default=60.0, gt=0)
    # Retries happen only before an answer's first token, with exponential backoff.
    ai_max_retries: int = Field(default=2, ge=0, le=10)
    ai_retry_base_delay: float = Field(default=0.25, ge=0)

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

    @field_validator("metrics_token", "sentry_dsn", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes `${METRICS_TOKEN:-}` as ""; an empty token must not become the token.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _realtime_broker(self) -> Settings:
        if self.realtime_broker == "redis" and not self.redis_url:
            raise ValueError("REALTIME_BROKER=redis needs REDIS_URL")
        if self.realtime_broker == "postgres" and self.is_sqlite:
            raise ValueError("REALTIME_BROKER=postgres needs a PostgreSQL DATABASE_URL")
        return self

    @property
    def realtime_broker_kind(self) -> Literal["memory", "postgres", "redis"]:
        """The broker in use, with `auto` resolved."""
        if self.realtime_broker != "auto":
            return self.realtime_broker
        if self.redis_url:
            return "redis"
        return "memory" if self.is_sqlite else "postgres"

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
