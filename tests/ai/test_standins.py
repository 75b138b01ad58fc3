"""The stand-ins speak the real wire formats: checked byte-level with httpx, and with the
official SDKs' non-streaming calls (the streaming ones are covered by the provider tests)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from everything_app.testing import (
    AnthropicStandin,
    ErrorMidStream,
    OpenAIStandin,
    Reply,
    ScriptedToolCall,
    ToolCalls,
    serve,
)

OPENAI_KEY = "sk-wire"
ANTHROPIC_KEY = "sk-ant-wire"
ANTHROPIC_HEADERS = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}


@pytest.fixture
async def openai_standin() -> AsyncIterator[tuple[OpenAIStandin, httpx.AsyncClient]]:
    standin = OpenAIStandin(api_key=OPENAI_KEY)
    async with serve(standin.app) as url, httpx.AsyncClient(base_url=url) as client:
        yield standin, client


@pytest.fixture
async def anthropic_standin() -> AsyncIterator[tuple[AnthropicStandin, httpx.AsyncClient]]:
    standin = AnthropicStandin(api_key=ANTHROPIC_KEY)
    async with serve(standin.app) as url, httpx.AsyncClient(base_url=url) as client:
        yield standin, client


def sse_data(body: str) -> list[str]:
    """The `data:` payloads of an SSE body, checking every event is `data: …\\n\\n`."""
    assert body.endswith("\n\n")
    events = body[:-2].split("\n\n")
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    return [e.removeprefix("data: ") for e in events]


def named_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """`(event name, data)` pairs of an Anthropic SSE body (`event:` line, then `data:`)."""
    pairs = []
    for block in body.strip("\n").split("\n\n"):
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        data = json.loads(data_line.removeprefix("data: "))
        assert data["type"] == event_line.removeprefix("event: ")
        pairs.append((data["type"], data))
    return pairs


# --- OpenAI ---------------------------------------------------------------------------------

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


async def test_openai_stream_framing_with_usage(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    standin, client = openai_standin
    standin.script.push(Reply("Hi there", chunks=2))

    response = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        json={
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Hello you"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert all("usage" in c for c in chunks), "with include_usage every chunk has the key"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["Hi t", "here"]
    assert chunks[3]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert chunks[4]["choices"] == []
    assert chunks[4]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


async def test_openai_tool_call_deltas_carry_index_id_then_fragments(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    standin, client = openai_standin
    standin.script.push(
        ToolCalls(calls=(ScriptedToolCall("f", '{"a": 1}', id="call_x"),), argument_chunks=2)
    )

    response = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": True},
    )

    chunks = [json.loads(p) for p in sse_data(response.text)[:-1]]
    assert all("usage" not in c for c in chunks), "no usage key without include_usage"
    deltas = [c["choices"][0]["delta"].get("tool_calls") for c in chunks[1:4]]
    assert deltas == [
        [
            {
                "index": 0,
                "id": "call_x",
                "type": "function",
                "function": {"name": "f", "arguments": ""},
            }
        ],
        [{"index": 0, "function": {"arguments": '{"a"'}}],
        [{"index": 0, "function": {"arguments": ": 1}"}}],
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_openai_error_event_inside_a_stream(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    standin, client = openai_standin
    standin.script.push(ErrorMidStream(text_before="Par", message="overloaded"))

    response = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": True},
    )

    last = json.loads(sse_data(response.text)[-1])
    assert last == {
        "error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}
    }


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, None),
        ({"Authorization": "Bearer sk-nope"}, 401, "invalid_api_key"),
    ],
)
async def test_openai_checks_the_bearer_key(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
    headers: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    _, client = openai_standin

    response = await client.get("/v1/models", headers=headers)

    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code


async def test_openai_request_errors(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    _, client = openai_standin
    auth = {"Authorization": f"Bearer {OPENAI_KEY}"}

    unknown = await client.post(
        "/v1/chat/completions",
        headers=auth,
        json={"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]},
    )
    orphan_tool = await client.post(
        "/v1/chat/completions",
        headers=auth,
        json={
            "model": "gpt-4o",
            "messages": [{"role": "tool", "tool_call_id": "c", "content": "r"}],
        },
    )

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    assert orphan_tool.status_code == 400
    assert "must be a response to a preceeding message" in orphan_tool.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tool_choice": "required"}, "'tool_choice' is only allowed when 'tools' are specified"),
        ({"tools": [TOOL], "tool_choice": "always"}, "Invalid value: 'always'."),
        (
            {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "g"}}},
            "function 'g' is not in 'tools'",
        ),
    ],
)
async def test_openai_tool_choice_errors(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient], change: dict[str, Any], message: str
) -> None:
    _, client = openai_standin
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], **change}

    response = await client.post(
        "/v1/chat/completions", headers={"Authorization": f"Bearer {OPENAI_KEY}"}, json=body
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["type"]) == ("tool_choice", "invalid_request_error")
    assert message in error["message"]


async def test_openai_sdk_reads_non_streaming_answers_and_the_model_list(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    standin, client = openai_standin
    standin.script.push(ToolCalls(text="Checking.", calls=(ScriptedToolCall("f", '{"a": 1}'),)))
    base_url = str(client.base_url).rstrip("/") + "/v1"
    sdk = openai.AsyncOpenAI(api_key=OPENAI_KEY, base_url=base_url, max_retries=0)
    try:
        completion = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Do the thing"}]
        )
        models = await sdk.models.list()
    finally:
        await sdk.close()

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking."
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.arguments == '{"a": 1}'
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 3
    assert [m.id for m in models.data] == ["gpt-4o-mini", "gpt-4o"]


async def test_openai_triggers_in_the_prompt_choose_a_behaviour(
    openai_standin: tuple[OpenAIStandin, httpx.AsyncClient],
) -> None:
    _, client = openai_standin
    auth = {"Authorization": f"Bearer {OPENAI_KEY}"}

    def ask(text: str) -> dict[str, Any]:
        return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}

    failed = await client.post("/v1/chat/completions", headers=auth, json=ask("[[fail:503]]"))
    tool = await client.post(
        "/v1/chat/completions", headers=auth, json=ask('Go [[tool:get_time {"tz": "UTC"}]]')
    )
    echo = await client.post("/v1/chat/completions", headers=auth, json=ask("plain"))

    assert failed.status_code == 503
    [call] = tool.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"] == {"name": "get_time", "arguments": '{"tz": "UTC"}'}
    assert echo.json()["choices"][0]["message"]["content"] == "Echo: plain"


# --- Anthropic ------------------------------------------------------------------------------


async def test_anthropic_stream_event_sequence(
    anthropic_standin: tuple[AnthropicStandin, httpx.AsyncClient],
) -> None:
    standin, client = anthropic_standin
    standin.script.push(
        ToolCalls(text="Sure.", calls=(ScriptedToolCall("f", '{"a": 1}', id="toolu_1"),))
    )

    response = await client.post(
        "/v1/messages",
        headers=ANTHROPIC_HEADERS,
        json={
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Do it"}],
            "stream": True,
        },
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in response.text
    events = named_events(response.text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["usage"] == {"input_tokens": 4, "output_tokens": 1}
    assert start["content"] == []
    assert start["stop_reason"] is None
    blocks = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert blocks == [
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
    ]
    json_parts = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert "".join(json_parts) == '{"a": 1}'
    assert [d["index"] for n, d in events if n == "content_block_stop"] == [0, 1]
    assert events[-2][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    }


async def test_anthropic_error_event_inside_a_stream(
    anthropic_standin: tuple[AnthropicStandin, httpx.AsyncClient],
) -> None:
    standin, client = anthropic_standin
    standin.script.push(ErrorMidStream(message="Overloaded"))

    response = await client.post(
        "/v1/messages",
        headers=ANTHROPIC_HEADERS,
        json={
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
        },
    )

    assert named_events(response.text)[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )


@pytest.mark.parametrize(
    ("headers", "body_change", "status", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, {}, 401, "x-api-key header is required"),
        ({**ANTHROPIC_HEADERS, "x-api-key": "nope"}, {}, 401, "invalid x-api-key"),
        ({"x-api-key": ANTHROPIC_KEY}, {}, 400, "anthropic-version: header is required"),
        (ANTHROPIC_HEADERS, {"max_tokens": None}, 400, "max_tokens: Field required"),
        (ANTHROPIC_HEADERS, {"model": "claude-9"}, 404, "model: claude-9"),
        (
            ANTHROPIC_HEADERS,
            {"messages": [{"role": "system", "content": "x"}]},
            400,
            'Unexpected role "system"',
        ),
        (
            ANTHROPIC_HEADERS,
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {"role": "user", "content": "no result"},
                ]
            },
            400,
            "`tool_use` ids were found without `tool_result` blocks immediately after: t1",
        ),
        (
            ANTHROPIC_HEADERS,
            {"tool_choice": {"type": "any"}},
            400,
            "tool_choice may only be specified while providing tools",
        ),
        (
            ANTHROPIC_HEADERS,
            {
                "tools": [{"name": "f", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "g"},
            },
            400,
            "Tool 'g' not found in provided tools",
        ),
        (
            ANTHROPIC_HEADERS,
            {
                "tools": [{"name": "f", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "required"},
            },
            400,
            "tool_choice: Input tag does not match",
        ),
    ],
)
async def test_anthropic_request_errors(
    anthropic_standin: tuple[AnthropicStandin, httpx.AsyncClient],
    headers: dict[str, str],
    body_change: dict[str, Any],
    status: int,
    message: str,
) -> None:
    _, client = anthropic_standin
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "x"}],
        **body_change,
    }

    response = await client.post("/v1/messages", headers=headers, json=body)

    assert response.status_code == status
    assert response.headers["request-id"]
    payload = response.json()
    assert payload["type"] == "error"
    assert message in payload["error"]["message"]


async def test_anthropic_sdk_reads_a_non_streaming_message(
    anthropic_standin: tuple[AnthropicStandin, httpx.AsyncClient],
) -> None:
    standin, client = anthropic_standin
    standin.script.push(Reply("All done here.", chunks=2))
    sdk = anthropic.AsyncAnthropic(
        api_key=ANTHROPIC_KEY, base_url=str(client.base_url), max_retries=0
    )
    try:
        message = await sdk.messages.create(
            model="claude-haiku-4-5",
            max_tokens=50,
            messages=[{"role": "user", "content": "Finish up"}],
        )
    finally:
        await sdk.close()

    assert message.stop_reason == "end_turn"
    assert [block.type for block in message.content] == ["text"]
    assert message.usage.input_tokens == 2
    assert message.usage.output_tokens == 3


def test_slow_trigger_spaces_out_chunks() -> None:
    from everything_app.testing.script import Reply, behaviour_from_text

    behaviour = behaviour_from_text("[[slow:20]] one two three")
    assert isinstance(behaviour, Reply)
    assert behaviour.chunk_delay == 0.02
    assert behaviour.chunks >= 4
    assert behaviour.text.startswith("Echo: ")
