"""Secrets: random tokens, their stored hashes, and HMAC-signed cookie values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token; 32 bytes = 256 bits."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What the database keeps instead of the token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _signature(value: str, secret: str) -> str:
    digest = hmac.digest(secret.encode(), value.encode(), "sha256")  # one call into OpenSSL
    return base64.b64encode(digest).decode()


def sign(value: str, secret: str) -> str:
    """better-call's signed cookie format: `value.base64(hmac-sha256(secret, value))`."""
    return f"{value}.{_signature(value, secret)}"


def unsign(signed: str, secret: str) -> str | None:
    value, _, signature = signed.rpartition(".")
    if not value or not hmac.compare_digest(signature, _signature(value, secret)):
        return None
    return value
