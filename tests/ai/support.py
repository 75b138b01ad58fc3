"""Shared helpers for the ai tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from everything_app.ai import ModelSpec, Provider, RetryPolicy, StreamEvent, TextDelta
from everything_app.ai.providers.anthropic import AnthropicProvider
from everything_app.ai.providers.openai import OpenAIProvider
from everything_app.testing import AnthropicStandin, OpenAIStandin, Script, serve

OPENAI_KEY = "sk-test-openai"
ANTHROPIC_KEY = "sk-ant-test"

OPENAI_MODEL = ModelSpec(
    id="gpt-4o-mini",
    provider="openai",
    upstream="gpt-4o-mini",
    label="GPT-4o mini",
    context_window=128_000,
    max_output_tokens=16_384,
)
ANTHROPIC_MODEL = ModelSpec(
    id="claude-haiku-4-5",
    provider="anthropic",
    upstream="claude-haiku-4-5",
    label="Claude Haiku 4.5",
    context_window=200_000,
    max_output_tokens=64_000,
)


@dataclass
class Backend:
    """One stand-in server and our provider pointed at it."""

    name: Literal["openai", "anthropic"]
    standin: OpenAIStandin | AnthropicStandin
    provider: Provider
    model: ModelSpec
    base_url: str

    @property
    def script(self) -> Script:
        return self.standin.script


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


async def collect_until_error(events: AsyncIterator[StreamEvent], seen: list[StreamEvent]) -> None:
    """Collect into `seen`, so a test can inspect what arrived before an exception."""
    async for event in events:
        seen.append(event)


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# Retries without waiting, so retry tests are fast and need no clock.
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.0, jitter=0.0)


@asynccontextmanager
async def running_backend(
    name: Literal["openai", "anthropic"],
    *,
    retry: RetryPolicy = FAST_RETRY,
    request_timeout: float = 10.0,
    api_key: str | None = None,
) -> AsyncIterator[Backend]:
    """A stand-in on a real uvicorn server, and our provider (real SDK) pointed at it."""
    standin: OpenAIStandin | AnthropicStandin
    provider: Provider
    if name == "openai":
        standin = OpenAIStandin(api_key=OPENAI_KEY)
        async with serve(standin.app) as url:
            provider = OpenAIProvider(
                api_key=api_key or OPENAI_KEY,
                base_url=f"{url}/v1",
                timeout=request_timeout,
                retry=retry,
            )
            try:
                yield Backend(name, standin, provider, OPENAI_MODEL, url)
            finally:
                await provider.aclose()
    else:
        standin = AnthropicStandin(api_key=ANTHROPIC_KEY)
        async with serve(standin.app) as url:
            provider = AnthropicProvider(
                api_key=api_key or ANTHROPIC_KEY, base_url=url, timeout=request_timeout, retry=retry
            )
            try:
                yield Backend(name, standin, provider, ANTHROPIC_MODEL, url)
            finally:
                await provider.aclose()
