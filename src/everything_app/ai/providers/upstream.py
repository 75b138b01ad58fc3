"""Streamed POSTs to a model server over one pooled aiohttp session, failures as ProviderErrors.

Why not the provider's SDK (or httpx) for the request: measured against a model server
streaming 64 chunks 5 ms apart over a reused connection, the OpenAI SDK took 4.3 ms to the
response headers, httpx 1.4 ms and aiohttp 0.8 ms; reading a whole answer cost httpx 1.9 ms
of CPU and aiohttp 0.8 ms (its HTTP parser is C). The body is read as raw bytes
(`providers.sse`); only the errors need the SDK's meaning, and `errors` gives them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from pydantic_core import from_json
from yarl import URL

from everything_app.ai.providers import errors
from everything_app.ai.types import ProviderError

# As many connections as the OpenAI SDK's own pool allowed: every stream holds one for its
# whole length, so a small pool would queue answers behind each other.
MAX_CONNECTIONS = 1000


class Upstream:
    """One model server's base URL, credentials and connection pool.

    The session is made on first use (it belongs to the running event loop) and closed by
    `aclose`. `timeout` bounds connecting and each wait for the next bytes, as the SDKs'
    timeout did: a model may stream for minutes, but never go silent for that long.
    """

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], timeout: float):
        self._provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            # A compressed event stream would wait in the decompressor: ask for none.
            "accept-encoding": "identity",
            **headers,
        }
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None
        # A proxy from the environment (HTTPS_PROXY, NO_PROXY, …), as the SDKs' HTTP clients
        # honour one: looked up once here, not per request as aiohttp's `trust_env` would
        # (two thread-pool round trips before every request is sent).
        self._proxy: URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        with suppress(LookupError):
            self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self._base_url))

    @asynccontextmanager
    async def stream(self, path: str, body: bytes) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST `body` (JSON) to `path`; yields the response body's bytes as they arrive.

        An HTTP error status raises the `ProviderError` it means (with the upstream's
        message and `Retry-After`); a transport failure or timeout, before or during the
        body, raises `unavailable` or `timeout`. Leaving the block early closes the
        connection, so the model stops generating; a body read to its end returns the
        connection to the pool.
        """
        try:
            response = await self._open().post(
                self._base_url + path,
                data=body,
                headers=self._headers,
                timeout=self._timeout,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            )
        except Exception as exc:
            raise self._transport_error(exc) from exc
        try:
            if response.status >= 400:
                raise await self._status_error(response)
            yield self._body(response)
        finally:
            response.release()

    @property
    def closed(self) -> bool:
        """No connection is open or can be reused (before the first request, or after
        `aclose`)."""
        return self._session is None or self._session.closed

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
            )
        return self._session

    async def _body(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        try:
            async for data in response.content.iter_any():
                yield data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc) from exc

    async def _status_error(self, response: aiohttp.ClientResponse) -> ProviderError:
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            raw = b""
        return errors.from_status(
            response.status,
            self._provider,
            _error_message(raw),
            errors.parse_retry_after(response.headers),
        )

    def _transport_error(self, exc: Exception) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
            return errors.timeout(self._provider)
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            return errors.unavailable(self._provider)
        return ProviderError(
            "upstream", f"{self._provider} failed unexpectedly ({type(exc).__name__})."
        )


def _error_message(raw: bytes) -> str | None:
    """The message of an error body shaped as OpenAI's and Anthropic's are:
    `{"error": {"message": …}}` (or the inner object alone)."""
    try:
        body = from_json(raw)
    except ValueError:
        return None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            message: str = inner["message"]
            return message
    return None
