"""The relay of an OpenAI upstream's own chunks: what it must not break.

The upstream here is a raw ASGI app that sends a fixed byte stream in awkward pieces (events
cut mid-JSON, CRLF line ends) under a model name other than ours, so the checks hold for the
bytes, not for how a friendly server happens to frame them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

import openai
import pytest
from starlette.types import Receive, Scope, Send

from everything_app.testing import serve

from .conftest import Gateway, GatewayFactory

OUR_MODEL = "house-model"
UPSTREAM_MODEL = "gpt-4o-mini-2024-07-18"
MODELS = json.dumps(
    [
        {
            "id": OUR_MODEL,
            "provider": "openai",
            "upstream": "gpt-4o-mini",
            "label": "House",
            "context_window": 1000,
            "max_output_tokens": 100,
        }
    ]
)


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-up",
        "object": "chat.completion.chunk",
        "created": 1,
        # A value that also appears inside content, where it must stay as it is.
        "model": UPSTREAM_MODEL,
        "system_fingerprint": "fp_up",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
        **extra,
    }


TEXT = ['He said "model": "', UPSTREAM_MODEL, '" twice']
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
ANSWER = [
    chunk({"role": "assistant", "content": ""}),
    *(chunk({"content": piece}) for piece in TEXT),
    chunk({}, "stop"),
    {**chunk({}), "choices": [], "usage": USAGE},
]
ERROR = {"error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}}


def sse(events: Sequence[dict[str, Any] | str]) -> bytes:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\r\n\r\n" for e in events]
    return "".join(lines).encode()


class ByteUpstream:
    """Answers every completion with `body`, sent 7 bytes at a time."""

    def __init__(self) -> None:
        self.body = sse([*ANSWER, "[DONE]"])
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append(json.loads(raw))
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for at in range(0, len(self.body), 7):
            piece = self.body[at : at + 7]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture
async def upstream_url() -> AsyncIterator[tuple[ByteUpstream, str]]:
    upstream = ByteUpstream()
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve(upstream))
        yield upstream, url


async def relayed(
    start_gateway: GatewayFactory, upstream: tuple[ByteUpstream, str]
) -> tuple[Gateway, str]:
    gateway = await start_gateway(
        upstream=(),
        openai_base_url=f"{upstream[1]}/v1",
        openai_api_key="sk-bytes",
        ai_models=MODELS,
    )
    return gateway, await gateway.user_key()


def events_of(body: str) -> list[str]:
    assert body.endswith("\n\n")
    return [e.removeprefix("data: ") for e in body[:-2].split("\n\n")]


async def test_cut_events_are_relayed_whole_with_our_model_in_every_chunk(
    start_gateway: GatewayFactory, upstream_url: tuple[ByteUpstream, str]
) -> None:
    gateway, key = await relayed(start_gateway, upstream_url)

    response = await gateway.http.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": OUR_MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )

    assert response.status_code == 200
    events = events_of(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) == len(ANSWER)
    assert {c["model"] for c in chunks} == {OUR_MODEL}
    # Everything else is the upstream's, untouched (text that looks like the field too).
    for sent, got in zip(ANSWER, chunks, strict=True):
        assert {**sent, "model": OUR_MODEL} == got
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == "".join(
        TEXT
    )
    assert chunks[-1]["usage"] == USAGE
    # The relay asked the upstream for usage and for a stream.
    [asked] = upstream_url[0].requests
    assert (asked["model"], asked["stream"]) == ("gpt-4o-mini", True)
    assert asked["stream_options"] == {"include_usage": True}
    [row] = await gateway.usage_rows()
    assert (row.model, row.input_tokens, row.output_tokens, row.status) == (
        OUR_MODEL,
        7,
        3,
        "complete",
    )


async def test_without_include_usage_no_chunk_carries_usage_and_it_is_still_recorded_once(
    start_gateway: GatewayFactory, upstream_url: tuple[ByteUpstream, str]
) -> None:
    gateway, key = await relayed(start_gateway, upstream_url)
    client = gateway.async_client(key)

    try:
        chunks = [
            c
            async for c in await client.chat.completions.create(
                model=OUR_MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
            )
        ]
        raw = await gateway.http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "model": OUR_MODEL,
                "messages": [{"role": "user", "content": "x"}],
                "stream": True,
            },
        )
    finally:
        await client.close()

    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.usage is None and c.model == OUR_MODEL for c in chunks)
    assert '"usage"' not in raw.text
    rows = await gateway.usage_rows()
    assert [(r.input_tokens, r.output_tokens, r.status) for r in rows] == [(7, 3, "complete")] * 2


async def test_an_error_event_mid_stream_ends_the_relay_with_an_error(
    start_gateway: GatewayFactory, upstream_url: tuple[ByteUpstream, str]
) -> None:
    upstream, _ = upstream_url
    upstream.body = sse([ANSWER[0], ANSWER[1], ERROR])
    gateway, key = await relayed(start_gateway, upstream_url)
    client = gateway.async_client(key)
    received: list[str] = []

    async def consume() -> None:
        async for c in await client.chat.completions.create(
            model=OUR_MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            received.extend(choice.delta.content or "" for choice in c.choices)

    try:
        with pytest.raises(openai.APIError) as caught:
            await consume()
    finally:
        await client.close()

    assert "".join(received) == TEXT[0]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "ai_upstream"
    [row] = await gateway.usage_rows()
    assert row.status == "error"


async def test_an_error_before_anything_was_said_is_an_http_error(
    start_gateway: GatewayFactory, upstream_url: tuple[ByteUpstream, str]
) -> None:
    """The opening chunk (a role, no text) is held back: the status is still the error's."""
    upstream, _ = upstream_url
    upstream.body = sse([ANSWER[0], ERROR])
    gateway, key = await relayed(start_gateway, upstream_url)

    response = await gateway.http.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": OUR_MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True},
    )

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "ai_upstream"
    # Retried by the provider's policy first (a 5xx may pass), then reported once.
    assert len(upstream.requests) == 3
    assert [r.status for r in await gateway.usage_rows()] == ["error"]


async def test_an_answer_cut_short_is_an_error_not_a_done(
    start_gateway: GatewayFactory, upstream_url: tuple[ByteUpstream, str]
) -> None:
    upstream, _ = upstream_url
    upstream.body = sse(ANSWER[:3])  # no finish reason, no [DONE]
    gateway, key = await relayed(start_gateway, upstream_url)

    response = await gateway.http.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": OUR_MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True},
    )

    events = events_of(response.text)
    assert "[DONE]" not in events
    assert json.loads(events[-1])["error"]["code"] == "ai_upstream"
    assert [r.status for r in await gateway.usage_rows()] == ["error"]
