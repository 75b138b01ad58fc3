"""Model providers behind one interface, and the holder the app keeps for its lifetime."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from everything_app.ai.models import ModelSpec, ProviderName
from everything_app.ai.providers.base import (
    NO_RETRY,
    OpenAIChunk,
    Provider,
    RetryPolicy,
    stream_with_retry,
)
from everything_app.ai.types import ChatMessage, StreamEvent, ToolChoice, ToolSpec

if TYPE_CHECKING:
    from everything_app.ai.providers.offline import Rule


class Providers:
    """Builds one client per provider on first use and closes them all in `aclose`.

    Lazy so that an install using only one provider never constructs (or validates the
    credentials of) the other. Owned by the app's lifespan.
    """

    def __init__(
        self,
        *,
        openai_api_key: str | None = None,
        openai_base_url: str | None = None,
        anthropic_api_key: str | None = None,
        anthropic_base_url: str | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        offline_rules: Sequence[Rule] = (),
    ) -> None:
        self._offline_rules = tuple(offline_rules)
        self._openai_api_key = openai_api_key
        self._openai_base_url = openai_base_url
        self._anthropic_api_key = anthropic_api_key
        self._anthropic_base_url = anthropic_base_url
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._built: dict[ProviderName, Provider] = {}

    def get(self, name: ProviderName) -> Provider:
        provider = self._built.get(name)
        if provider is None:
            provider = self._built[name] = self._build(name)
        return provider

    def for_model(self, model: ModelSpec) -> Provider:
        return self.get(model.provider)

    def stream(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream from whichever provider serves `model`."""
        return self.for_model(model).stream(
            model, messages, tools=tools, tool_choice=tool_choice, max_tokens=max_tokens
        )

    def openai_chunks(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[list[OpenAIChunk], None] | None:
        """The upstream's own Chat Completions chunks when `model`'s provider speaks OpenAI's
        protocol (see `OpenAIProvider.chunks`), so they can be relayed without conversion;
        None for any other provider."""
        if model.provider != "openai":
            return None
        from everything_app.ai.providers.openai import OpenAIProvider

        provider = self.get("openai")
        if not isinstance(provider, OpenAIProvider):
            return None  # a stand-in provider object (tests): it speaks only our events
        return provider.chunks(
            model, messages, tools=tools, tool_choice=tool_choice, max_tokens=max_tokens
        )

    async def aclose(self) -> None:
        built, self._built = self._built, {}
        for provider in built.values():
            await provider.aclose()

    def _build(self, name: ProviderName) -> Provider:
        # Imported here: each SDK costs import time that a server without it should not pay.
        if name == "openai":
            from everything_app.ai.providers.openai import OpenAIProvider

            return OpenAIProvider(
                api_key=self._openai_api_key,
                base_url=self._openai_base_url,
                timeout=self._timeout,
                retry=self._retry,
            )
        if name == "anthropic":
            from everything_app.ai.providers.anthropic import AnthropicProvider

            return AnthropicProvider(
                api_key=self._anthropic_api_key,
                base_url=self._anthropic_base_url,
                timeout=self._timeout,
                retry=self._retry,
            )
        from everything_app.ai.providers.offline import DEFAULT_RULES, OfflineProvider

        return OfflineProvider(rules=(*self._offline_rules, *DEFAULT_RULES))


__all__ = ["NO_RETRY", "OpenAIChunk", "Provider", "Providers", "RetryPolicy", "stream_with_retry"]
