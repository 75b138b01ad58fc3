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
    # Password reset and email verification (auth.recovery, auth.verification).
    password_reset_token_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    email_verification_token_seconds: int = Field(default=3600, ge=60, le=30 * 24 * 3600)
    # Sign-in refuses an unverified email (403 EMAIL_NOT_VERIFIED) and mails a fresh link.
    require_email_verification: bool = False
    # Requests that mail a link (reset, verification, change of email): per client IP and
    # per address, whether or not the address has an account.
    rate_limit_account_mail_ip: str = "20/hour"
    rate_limit_account_mail_email: str = "5/hour"
