"""Accounts and sessions."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class AuthSettings(BaseSettings):
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    session_update_age_seconds: int = Field(default=24 * 3600, ge=0)
    # How long a verified session or API key is trusted in a process without re-reading it.
    # Revocations end it at once on every instance (change events); this bounds only what
    # nobody announced. 0 reads the credential on every request.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Rate limits, in the `limits` library's notation ("N per period").
    rate_limit_sign_in_ip: str = "20/minute"
    rate_limit_sign_in_email_failures: str = "5/minute"
    rate_limit_sign_up_ip: str = "10/minute"
    # Account exports (`account.export`): how long an archive and its signed download link
    # stay valid, and the largest archive built (a larger one fails the job, saying so).
    export_link_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    export_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
