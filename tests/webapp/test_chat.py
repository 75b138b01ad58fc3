"""The chat page in Chromium against a real `serve`, on SQLite and PostgreSQL: the flows of
tests/js/webapp/chat*.mjs.

The server's default model is an OpenAI stand-in (our real OpenAI provider code through the
real SDK, tests' `OpenAIStandin`) running in this test's process: it answers "Echo: <question>"
and streams slowly on `[[slow:MS]]`, which gives an answer long enough to reload or go offline
in the middle of. The built-in offline model turns planner sentences into tool calls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from everything_app.testing import OpenAIStandin, serve
from tests.webapp.conftest import ServeWebapp
from tests.webapp.harness import Server

pytestmark = pytest.mark.slow  # a server process and a browser each

STANDIN_KEY = "sk-webapp-standin"
MODELS = [
    {
        "id": "echo",
        "provider": "openai",
        "upstream": "gpt-4o-mini",
        "label": "Echo (stand-in)",
        "context_window": 8000,
        "max_output_tokens": 1000,
    },
    {
        "id": "offline",
        "provider": "offline",
        "upstream": "offline",
        "label": "Offline assistant",
        "context_window": 8192,
        "max_output_tokens": 1024,
    },
]


@pytest.fixture
async def chat_server(start_webapp: ServeWebapp) -> AsyncIterator[Server]:
    standin = OpenAIStandin(api_key=STANDIN_KEY)
    async with serve(standin.app) as standin_url:
        yield await start_webapp(
            OPENAI_API_KEY=STANDIN_KEY,
            OPENAI_BASE_URL=f"{standin_url}/v1",
            AI_MODELS=json.dumps(MODELS),
            AI_RETRY_BASE_DELAY="0",
        )


async def test_chat_streams_reloads_makes_a_task_and_scrolls_back(chat_server: Server) -> None:
    output = await chat_server.run_flow("chat")
    assert "flow chat: passed" in output


async def test_chat_answer_survives_a_reload_and_a_network_drop(chat_server: Server) -> None:
    output = await chat_server.run_flow("chat-resume")
    assert "flow chat-resume: passed" in output


async def test_chat_errors_are_shown_and_keep_the_question(chat_server: Server) -> None:
    output = await chat_server.run_flow("chat-errors")
    assert "flow chat-errors: passed" in output
