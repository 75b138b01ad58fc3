"""Where a rendered message goes: an SMTP server (SMTP_URL), or the outbox directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from everything_app.core.logging import get_logger
from everything_app.settings import Settings

log = get_logger(__name__)
OUTBOX_DIR = "outbox"


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps://: TLS from the first byte
    start_tls: bool | None  # None: STARTTLS when the server offers it


def smtp_target(url: str) -> SmtpTarget:
    """SMTP_URL's parts (the settings have validated its form)."""
    parts = urlsplit(url)
    use_tls = parts.scheme == "smtps"
    option = parse_qs(parts.query).get("starttls", ["auto"])[-1].lower()
    start_tls = {"true": True, "false": False}.get(option)
    return SmtpTarget(
        hostname=parts.hostname or "localhost",
        port=parts.port or (465 if use_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=False if use_tls else start_tls,
    )


async def deliver(settings: Settings, message: EmailMessage) -> str:
    """Send `message`; where it went (for the log). Raises on any failure (the job retries):
    a refused connection, a timeout, a 4xx or 5xx answer, a recipient refused."""
    if settings.smtp_url is None:
        return str(write_outbox(settings.data_dir / OUTBOX_DIR, message))
    target = smtp_target(settings.smtp_url.get_secret_value())
    errors, _reply = await aiosmtplib.send(
        message,
        hostname=target.hostname,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=target.start_tls,
        timeout=settings.smtp_timeout_seconds,
    )
    if errors:  # some recipients refused (with one recipient, send() raises instead)
        refused = [
            aiosmtplib.SMTPRecipientRefused(code, text, rcpt)
            for rcpt, (code, text) in errors.items()
        ]
        raise aiosmtplib.SMTPRecipientsRefused(refused)
    return f"smtp://{target.hostname}:{target.port}"


def write_outbox(outbox: Path, message: EmailMessage) -> Path:
    """`message` as one .eml file in `outbox`, readable by its owner only, written whole or
    not at all (a temporary file renamed into place). Named by its Message-ID, so a job run
    twice writes one file."""
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    message_id = str(message["Message-ID"] or "").strip("<>").split("@", 1)[0]
    name = "".join(c for c in message_id if c.isalnum() or c in "-_") or "message"
    path = outbox / f"{name}.eml"
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".mail-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
