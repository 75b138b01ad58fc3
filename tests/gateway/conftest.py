"""The gateway on a real uvicorn server, its upstream a stand-in, its client the real SDK.

The app and the stand-ins run in the test's event loop; the synchronous `openai.OpenAI`
client therefore runs in a worker thread (`asyncio.to_thread`), as it would in its own
process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from sqlalchemy import select

from everything_app.core import rls
from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.gateway.inflight import InFlight
from everything_app.gateway.models import AiUsage
from everything_app.testing import AnthropicStandin, OpenAIStandin, Script, serve
from tests.conftest import BASE_URL, AppWith, unique_email

OPENAI_KEY = "sk-upstream-openai"
ANTHROPIC_KEY = "sk-ant-upstream"
PASSWORD = "correct horse battery"


@dataclass
class Gateway:
    app: FastAPI
    url: str
    openai_standin: OpenAIStandin | None
    anthropic_standin: AnthropicStandin | None
    http: httpx.AsyncClient
    """Plain HTTP to the server, with a browser's Origin, for set-up and wire-level checks."""

    @property
    def script(self) -> Script:
        assert self.openai_standin is not None
        return self.openai_standin.script

    @property
    def inflight(self) -> InFlight:
        inflight: InFlight = self.app.state.gateway_inflight
        return inflight

    def client(self, key: str) -> openai.OpenAI:
        # No retries: a failure must reach the test as the first response had it.
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    def async_client(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    async def sign_up(self) -> dict[str, str]:
        """A new user; returns `Authorization` headers with their session token."""
        response = await self.http.post(
            "/api/auth/sign-up/email",
            json={"email": unique_email("gw"), "password": PASSWORD, "name": "Gateway User"},
        )
        assert response.status_code == 200, response.text
        # Credentials travel only as the headers a test passes, never from the cookie jar.
        self.http.cookies.clear()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def new_key(self, session: dict[str, str], name: str = "sdk") -> dict[str, Any]:
        """A new API key of the signed-in user: `{"id", "key", …}`."""
        response = await self.http.post("/api/keys", json={"name": name}, headers=session)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def user_key(self) -> str:
        key: str = (await self.new_key(await self.sign_up()))["key"]
        return key

    async def usage_rows(self) -> list[AiUsage]:
        """The usage rows, once every completion that started has written its own."""
        await self.inflight.wait_idle()
        async with self.app.state.sessionmaker() as db:
            await rls.act_as_system(db, tables=["ai_usage"], reason="test")
            return list((await db.execute(select(AiUsage).order_by(AiUsage.created_at))).scalars())


GatewayFactory = Callable[..., Awaitable[Gateway]]


async def complete(client: openai.OpenAI, **params: Any) -> ChatCompletion:
    """`client.chat.completions.create(**params)`, not streamed, in a worker thread."""

    def call() -> ChatCompletion:
        completion: ChatCompletion = client.chat.completions.create(**params)
        return completion

    return await asyncio.to_thread(call)


async def stream(client: openai.OpenAI, **params: Any) -> list[ChatCompletionChunk]:
    """The chunks of a streamed `create(**params)`, read to the end in a worker thread."""

    def call() -> list[ChatCompletionChunk]:
        return list(client.chat.completions.create(stream=True, **params))

    return await asyncio.to_thread(call)


@pytest.fixture
async def start_gateway(app_with: AppWith) -> AsyncIterator[GatewayFactory]:
    """Start the app on a real server. `upstream`: "openai", "anthropic", both, or none (the
    offline model only); other keywords override settings."""
    async with AsyncExitStack() as stack:

        async def start(upstream: tuple[str, ...] = ("openai",), **overrides: Any) -> Gateway:
            values: dict[str, Any] = {}
            openai_standin = anthropic_standin = None
            if "openai" in upstream:
                openai_standin = OpenAIStandin(api_key=OPENAI_KEY)
                standin_url = await stack.enter_async_context(serve(openai_standin.app))
                values.update(openai_base_url=f"{standin_url}/v1", openai_api_key=OPENAI_KEY)
            if "anthropic" in upstream:
                anthropic_standin = AnthropicStandin(api_key=ANTHROPIC_KEY)
                standin_url = await stack.enter_async_context(serve(anthropic_standin.app))
                values.update(anthropic_base_url=standin_url, anthropic_api_key=ANTHROPIC_KEY)
            values.update(overrides)
            app = (await app_with(**values)).app
            url = await stack.enter_async_context(serve(app, http=HTTP_PROTOCOL))
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers={"Origin": BASE_URL})
            )
            return Gateway(app, url, openai_standin, anthropic_standin, http)

        yield start


@pytest.fixture
async def gateway(start_gateway: GatewayFactory) -> Gateway:
    return await start_gateway()
