"""The holder the app keeps: one client per provider, built on first use."""

from __future__ import annotations

from everything_app.ai import ChatMessage, Finish, Providers
from everything_app.ai.models import OFFLINE_MODEL
from everything_app.ai.providers.anthropic import AnthropicProvider
from everything_app.ai.providers.offline import OfflineProvider
from everything_app.ai.providers.openai import OpenAIProvider
from everything_app.testing import OpenAIStandin, Reply, serve

from .support import ANTHROPIC_MODEL, OPENAI_KEY, OPENAI_MODEL, collect, text_of


async def test_clients_are_built_lazily_once_and_closed() -> None:
    providers = Providers(openai_api_key="sk", anthropic_api_key="sk-ant")
    assert providers._built == {}

    openai_provider = providers.for_model(OPENAI_MODEL)
    assert isinstance(openai_provider, OpenAIProvider)
    assert providers.get("openai") is openai_provider
    assert isinstance(providers.for_model(ANTHROPIC_MODEL), AnthropicProvider)
    assert isinstance(providers.for_model(OFFLINE_MODEL), OfflineProvider)

    await providers.aclose()

    assert openai_provider._upstream.closed
    assert providers._built == {}


async def test_streams_through_the_provider_that_serves_the_model() -> None:
    standin = OpenAIStandin(api_key=OPENAI_KEY)
    standin.script.push(Reply("From the stand-in."))
    async with serve(standin.app) as url:
        providers = Providers(openai_api_key=OPENAI_KEY, openai_base_url=f"{url}/v1")
        try:
            remote = await collect(providers.stream(OPENAI_MODEL, [ChatMessage("user", "Hi")]))
            offline = await collect(providers.stream(OFFLINE_MODEL, [ChatMessage("user", "Hi")]))
        finally:
            await providers.aclose()

    assert text_of(remote) == "From the stand-in."
    assert text_of(offline).startswith("No AI model is configured")
    assert remote[-1] == offline[-1] == Finish("stop")
