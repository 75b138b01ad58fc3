"""Chat tests run our app on a real uvicorn server, with OpenAI and Anthropic stand-ins as
its upstream providers (our real provider code, through the real SDKs)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.settings import Settings
from everything_app.testing import AnthropicStandin, OpenAIStandin, serve
from tests.conftest import BASE_URL, make_settings, sign_up, start_app

OPENAI_KEY = "sk-test-openai"
ANTHROPIC_KEY = "sk-ant-test"
MODELS = [
    {
        "id": "gpt-test",
        "provider": "openai",
        "upstream": "gpt-4o-mini",
        "label": "GPT test",
        "context_window": 4000,
        "max_output_tokens": 500,
    },
    {
        "id": "claude-test",
        "provider": "anthropic",
        "upstream": "claude-haiku-4-5",
        "label": "Claude test",
        "context_window": 4000,
        "max_output_tokens": 500,
    },
    {
        "id": "offline",
        "provider": "offline",
        "upstream": "offline",
        "label": "Offline",
        "context_window": 8192,
        "max_output_tokens": 1024,
    },
]


@dataclass
class ChatServer:
    app: FastAPI
    url: str
    openai: OpenAIStandin
    anthropic: AnthropicStandin

    def client(self) -> httpx.AsyncClient:
        # The app trusts its BASE_URL origin, which is what a browser on the site would send.
        return httpx.AsyncClient(base_url=self.url, headers={"Origin": BASE_URL}, timeout=30)


async def start_chat_server(
    stack: AsyncExitStack, database_url: str, tmp_path: Path, **overrides: Any
) -> ChatServer:
    """Our app on a real server, with OpenAI and Anthropic stand-ins as its providers;
    `overrides` are settings."""
    openai = OpenAIStandin(api_key=OPENAI_KEY)
    anthropic = AnthropicStandin(api_key=ANTHROPIC_KEY)
    openai_url = await stack.enter_async_context(serve(openai.app))
    anthropic_url = await stack.enter_async_context(serve(anthropic.app))
    settings: Settings = make_settings(
        database_url,
        tmp_path,
        openai_api_key=OPENAI_KEY,
        openai_base_url=f"{openai_url}/v1",
        anthropic_api_key=ANTHROPIC_KEY,
        anthropic_base_url=anthropic_url,
        ai_models=json.dumps(MODELS),
        ai_retry_base_delay=0.0,  # retry at once, so failure tests need no clock
        **overrides,
    )
    app = await start_app(stack, settings)
    url = await stack.enter_async_context(serve(app, http=HTTP_PROTOCOL))
    return ChatServer(app, url, openai, anthropic)


@pytest.fixture
async def chat_server(database_url: str, tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with AsyncExitStack() as stack:
        yield await start_chat_server(stack, database_url, tmp_path)


@asynccontextmanager
async def signed_in_client(server: ChatServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        await sign_up(client)
        yield client


def parse_sse(body: str) -> list[Any]:
    events: list[Any] = []
    for block in body.split("\n\n"):
        if not block.startswith("data: "):
            continue
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def ui_chat_body(chat_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": chat_id,
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": text}]}],
        "trigger": "submit-message",
        **extra,
    }
