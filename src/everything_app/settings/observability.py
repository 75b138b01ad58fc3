"""Logs, metrics and error reporting."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings


class ObservabilitySettings(BaseSettings):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    # GET /metrics is open (for a scraper on a private network) unless this is set; then it
    # needs `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: SecretStr | None = None
    # Errors are reported to Sentry when set (no personal data: see core.observability).
    sentry_dsn: SecretStr | None = None
    sentry_environment: str = "production"

    @field_validator("metrics_token", "sentry_dsn", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes `${METRICS_TOKEN:-}` as ""; an empty token must not become the token.
        return None if isinstance(value, str) and not value.strip() else value
