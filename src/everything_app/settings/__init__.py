"""Configuration from the environment (12-factor), validated once at start-up.

One class per feature (this package's modules), composed into `Settings`; every setting has
an environment variable of the same name in upper case, and the names stay flat
(`settings.chat_max_generations`), so a feature reads its own fields without knowing where
the others live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from everything_app.settings.ai import AISettings, GatewaySettings
from everything_app.settings.auth import AuthSettings
from everything_app.settings.chat import ChatSettings
from everything_app.settings.housekeeping import HousekeepingSettings
from everything_app.settings.jobs import JobsSettings
from everything_app.settings.keys import KeysSettings
from everything_app.settings.mail import MailSettings
from everything_app.settings.observability import ObservabilitySettings
from everything_app.settings.oidc import OidcSettings
from everything_app.settings.realtime import RealtimeSettings
from everything_app.settings.reservations import ReservationSettings
from everything_app.settings.server import (
    MIN_SECRET_LENGTH,
    SECRET_FILE_NAME,
    ServerSettings,
    cores,
    default_workers,
)
from everything_app.settings.webapp import WebAppSettings

__all__ = [
    "MIN_SECRET_LENGTH",
    "SECRET_FILE_NAME",
    "AISettings",
    "AuthSettings",
    "ChatSettings",
    "GatewaySettings",
    "HousekeepingSettings",
    "JobsSettings",
    "KeysSettings",
    "MailSettings",
    "ObservabilitySettings",
    "OidcSettings",
    "RealtimeSettings",
    "ReservationSettings",
    "ServerSettings",
    "Settings",
    "WebAppSettings",
    "cores",
    "default_workers",
]


class Settings(
    ServerSettings,
    ObservabilitySettings,
    AuthSettings,
    OidcSettings,
    KeysSettings,
    MailSettings,
    AISettings,
    GatewaySettings,
    ChatSettings,
    RealtimeSettings,
    ReservationSettings,
    HousekeepingSettings,
    JobsSettings,
    WebAppSettings,
):
    """Every setting of the app (see each feature's class for what it means)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # The realtime broker depends on what the server has (Redis, PostgreSQL), so its check
    # lives where both are known.
    @model_validator(mode="after")
    def _realtime_broker(self) -> Settings:
        if self.realtime_broker == "redis" and not self.redis_url:
            raise ValueError("REALTIME_BROKER=redis needs REDIS_URL")
        if self.realtime_broker == "postgres" and self.is_sqlite:
            raise ValueError("REALTIME_BROKER=postgres needs a PostgreSQL DATABASE_URL")
        return self

    @property
    def resolved_backup_dir(self) -> Path:
        """BACKUP_DIR, else `backups` inside DATA_DIR."""
        return self.backup_dir if self.backup_dir is not None else self.data_dir / "backups"

    @property
    def realtime_broker_kind(self) -> Literal["memory", "postgres", "redis"]:
        """The broker in use, with `auto` resolved."""
        if self.realtime_broker != "auto":
            return self.realtime_broker
        if self.redis_url:
            return "redis"
        return "memory" if self.is_sqlite else "postgres"

    @property
    def resolved_jobs_broker_url(self) -> str:
        """Where job messages go: `memory` (the embedded queue), or a Redis or AMQP URL."""
        if self.jobs_broker_url:
            return self.jobs_broker_url
        return self.redis_url or "memory"
