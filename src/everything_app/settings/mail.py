"""Outgoing mail (the mail feature): where it goes and who it is from."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

STARTTLS_VALUES = {"true", "false", "auto"}


class MailSettings(BaseSettings):
    # smtp://user:password@host:587 (STARTTLS when the server offers it; `?starttls=true`
    # requires it, `?starttls=false` never uses it) or smtps://user:password@host:465 (TLS
    # from the start). Unset: mail is written to DATA_DIR/outbox, one .eml per message.
    smtp_url: SecretStr | None = None
    mail_from: str = "Everything-App <no-reply@localhost>"
    # One SMTP conversation's time limit; a mail job that exceeds it is retried.
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://…")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("SMTP_URL has an invalid port") from exc
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[-1].lower()
        if starttls not in STARTTLS_VALUES:
            raise ValueError("SMTP_URL's starttls option is true, false or auto")
        if parts.scheme == "smtps" and starttls == "true":
            raise ValueError("SMTP_URL: smtps:// is TLS from the start; starttls=true is smtp://")
        return value

    @property
    def mail_configured(self) -> bool:
        """Whether mail goes to an SMTP server (else to the outbox directory)."""
        return self.smtp_url is not None
