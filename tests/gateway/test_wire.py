"""The OpenAI wire shapes built from provider events, and the /v1 error rendering."""

from __future__ import annotations

import json
from typing import Any

from everything_app.ai import (
    Finish,
    TextDelta,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from everything_app.core.errors import error_body, openai_error_body
from everything_app.gateway.wire import ChunkEncoder, CompletionBuilder
from tests.conftest import AppWith


def frames(data: bytes) -> list[dict[str, Any]]:
    text = data.decode()
    assert text.endswith("\n\n")
    return [json.loads(e.removeprefix("data: ")) for e in text[:-2].split("\n\n")]


def test_a_tool_call_finished_with_unstreamed_arguments_sends_the_rest() -> None:
    encoder = ChunkEncoder("m", include_usage=False)

    started = frames(encoder.event(ToolCallStarted(id="t1", name="f")))
    streamed = frames(encoder.event(ToolCallDelta(id="t1", arguments_delta='{"a"')))
    rest = frames(encoder.event(ToolCallFinished(id="t1", name="f", arguments='{"a": 1}')))
    nothing_new = encoder.event(ToolCallFinished(id="t1", name="f", arguments='{"a": 1}'))
    empty = ChunkEncoder("m", include_usage=False)
    empty.event(ToolCallStarted(id="t2", name="g"))
    default = frames(empty.event(ToolCallFinished(id="t2", name="g", arguments="{}")))

    assert started[0]["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}}
    ]
    assert streamed[0]["choices"][0]["delta"]["tool_calls"][0]["function"] == {"arguments": '{"a"'}
    assert rest[0]["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "function": {"arguments": ": 1}"}}
    ]
    assert nothing_new == b""
    assert default[0]["choices"][0]["delta"]["tool_calls"][0]["function"] == {"arguments": "{}"}


def test_every_chunk_shares_id_created_and_model_and_usage_comes_last() -> None:
    encoder = ChunkEncoder("gpt-x", include_usage=True)

    data = (
        encoder.start()
        + encoder.event(TextDelta("hi"))
        + encoder.event(Usage(3, 1))
        + encoder.event(Finish("length"))
        + encoder.end(Usage(3, 1))
    )

    assert data.endswith(b"data: [DONE]\n\n")
    chunks = frames(data.removesuffix(b"data: [DONE]\n\n"))
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert [c["usage"] for c in chunks[:-1]] == [None, None, None]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}


def test_a_whole_completion_maps_finish_reasons_and_content() -> None:
    builder = CompletionBuilder("m")
    for event in (
        ToolCallStarted(id="c", name="f"),
        ToolCallFinished(id="c", name="f", arguments="{}"),
        Finish("tool-calls"),
    ):
        builder.feed(event)
    only_text = CompletionBuilder("m")
    only_text.feed(Finish("content-filter"))

    body = builder.body(None)
    [choice] = body["choices"]
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}
    assert choice["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    text_choice = only_text.body(Usage(1, 0))["choices"][0]
    assert (text_choice["message"]["content"], text_choice["finish_reason"]) == (
        "",
        "content_filter",
    )


def test_the_renderer_picks_the_shape_by_path() -> None:
    assert error_body("/v1/chat/completions", "rate_limited", "Slow down.", status=429) == {
        "error": {
            "message": "Slow down.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert (
        error_body("/v1", "x", "m", [{"loc": ["body", "messages", 0, "role"]}])["error"]["param"]
        == "messages[0].role"
    )
    assert openai_error_body(503, "ai_unavailable", "down")["error"]["type"] == "server_error"
    assert error_body("/v1beta", "x", "m") == {
        "error": {"code": "x", "message": "m", "details": []}
    }
    assert error_body("/api/auth/x", "x", "m") == {"code": "X", "message": "m"}


async def test_a_crash_under_v1_is_a_500_in_openais_shape(app_with: AppWith) -> None:
    running = await app_with()

    async def boom() -> None:
        raise RuntimeError("secret internals")

    running.app.add_api_route("/v1/boom", boom)
    client = running.client(origin=None, raise_app_exceptions=False)
    response = await client.get("/v1/boom", headers={"X-Request-ID": "req-777"})

    assert response.status_code == 500
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "server_error",
        "internal_error",
        None,
    )
    assert "req-777" in error["message"]
    assert "secret internals" not in response.text
