"""Turning upstream failures into `ProviderError`s, the same way for every SDK."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from everything_app.ai.types import ProviderError

# Anthropic (and OpenAI, in the `type` of its error bodies) name the error; inside a stream
# there is no HTTP status, so the name stands in for it.
ERROR_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "tokens": 429,
    "requests": 429,
    "insufficient_quota": 429,
    "api_error": 500,
    "server_error": 500,
    "overloaded_error": 529,
}


def from_status(
    status: int, provider: str, upstream_message: str | None, retry_after: float | None
) -> ProviderError:
    """Map an upstream HTTP status (or its in-stream equivalent) to our error."""
    if status in (401, 403):
        return ProviderError("auth", f"The server's {provider} credentials were rejected.")
    if status == 429:
        return ProviderError(
            "rate_limited",
            f"{provider} is rate limiting this server; try again shortly.",
            retry_after=retry_after,
        )
    if status == 408:
        return ProviderError("timeout", f"{provider} timed out.")
    if status in (400, 413, 422):
        # The request itself was refused (too long, bad content): the user can act on why.
        detail = f": {upstream_message}" if upstream_message else "."
        return ProviderError("bad_request", f"{provider} rejected the request{detail}")
    if status == 404:
        # Unknown model or endpoint: our configuration, not the user's request.
        return ProviderError(
            "upstream",
            f"{provider} could not find the configured model or endpoint.",
            retryable=False,
        )
    # Any other 4xx will fail the same way again; a 5xx may not.
    return ProviderError(
        "upstream", f"{provider} failed (status {status}).", retryable=status >= 500
    )


def from_transport(exc: BaseException, provider: str) -> ProviderError | None:
    """Classify an httpx-family transport exception that an SDK let through unwrapped.

    The SDKs moved from `httpx` to `httpx2`; matching the class names of the exception's
    ancestry covers both without importing either.
    """
    names = {
        cls.__name__
        for cls in type(exc).__mro__
        if cls.__module__.split(".")[0].startswith("httpx")
    }
    if "TimeoutException" in names:
        return timeout(provider)
    if "TransportError" in names or "RequestError" in names:
        return unavailable(provider)
    return None


def timeout(provider: str) -> ProviderError:
    return ProviderError("timeout", f"{provider} did not answer in time.")


def unavailable(provider: str) -> ProviderError:
    return ProviderError("unavailable", f"{provider} could not be reached.")


def malformed(provider: str, what: str) -> ProviderError:
    return ProviderError("malformed", f"{provider} sent a response we could not read ({what}).")


def from_stream_error(provider: str, error_type: str | None, message: str | None) -> ProviderError:
    """Map an error event that arrived inside a 200 stream, named by its `type`."""
    status = ERROR_TYPE_STATUS.get(error_type or "", 500)
    if status >= 500:
        return ProviderError(
            "upstream",
            f"{provider} reported an error during the answer ({error_type or 'unknown error'}).",
        )
    return from_status(status, provider, message, None)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
