"""Every failure under /v1 reaches the SDK as OpenAI's: status, error shape, exception class."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from everything_app.testing import ErrorMidStream, Fail, Reply

from .conftest import Gateway, GatewayFactory, complete, stream

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


def assert_openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


async def test_a_missing_or_unknown_key_is_401(gateway: Gateway) -> None:
    body = {"model": "gpt-4o", "messages": HELLO}

    missing = await gateway.http.post("/v1/chat/completions", json=body)
    unknown = await gateway.http.get("/v1/models", headers={"Authorization": "Bearer ea_nope"})
    not_a_key = await gateway.http.get("/v1/models", headers={"Authorization": "Bearer nonsense"})

    for response in (missing, unknown, not_a_key):
        error = assert_openai_error(response, 401)
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "didn't provide an API key" in assert_openai_error(missing, 401)["message"]
    with pytest.raises(openai.AuthenticationError) as caught:
        await asyncio.to_thread(gateway.client("ea_wrong").models.list)
    assert caught.value.code == "invalid_api_key"
    assert gateway.script.requests == []


async def test_a_revoked_key_is_refused_at_once(gateway: Gateway) -> None:
    session = await gateway.sign_up()
    key = await gateway.new_key(session)
    client = gateway.client(key["key"])
    await asyncio.to_thread(client.models.list)

    revoked = await gateway.http.delete(f"/api/keys/{key['id']}", headers=session)
    assert revoked.status_code == 200

    with pytest.raises(openai.AuthenticationError):
        await complete(client, model="gpt-4o", messages=HELLO)
    assert gateway.script.requests == []


async def test_a_session_token_works_too(gateway: Gateway) -> None:
    session = await gateway.sign_up()
    token = session["Authorization"].removeprefix("Bearer ")

    completion = await complete(gateway.client(token), model="gpt-4o", messages=HELLO)

    assert completion.choices[0].message.content == "Echo: hello"
    [row] = await gateway.usage_rows()
    assert row.api_key_id is None


async def test_an_unknown_model_names_the_valid_ones(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())

    with pytest.raises(openai.NotFoundError) as caught:
        await complete(client, model="gpt-9", messages=HELLO)

    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert "gpt-4o-mini, gpt-4o, offline" in caught.value.message
    assert gateway.script.requests == []
    assert await gateway.usage_rows() == []


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": HELLO}, "model", "missing_required_parameter"),
        ({"model": "gpt-4o"}, "messages", "missing_required_parameter"),
        ({"model": "gpt-4o", "messages": []}, "messages", "invalid_value"),
        (
            {"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "tool", "content": "x"}]},
            "messages[0].tool_call_id",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            "messages[0].content[0].type",
            "invalid_value",
        ),
        ({"model": "gpt-4o", "messages": HELLO, "max_tokens": 0}, "max_tokens", "invalid_value"),
        ({"model": "gpt-4o", "messages": HELLO, "n": 2}, "n", "invalid_value"),
        (
            {"model": "gpt-4o", "messages": HELLO, "tool_choice": {"function": {"name": "x"}}},
            "tool_choice",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": HELLO, "tool_choice": "required"},
            "tool_choice",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": HELLO,
                "tools": [{"type": "function", "function": {"name": "a"}}],
                "tool_choice": {"type": "function", "function": {"name": "b"}},
            },
            "tool_choice",
            "invalid_value",
        ),
    ],
)
async def test_bad_bodies_are_400_naming_the_parameter(
    gateway: Gateway, body: dict[str, Any], param: str, code: str
) -> None:
    auth = {"Authorization": f"Bearer {await gateway.user_key()}"}

    response = await gateway.http.post("/v1/chat/completions", json=body, headers=auth)

    error = assert_openai_error(response, 400)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert gateway.script.requests == []


async def test_invalid_json_and_unknown_routes_keep_the_shape(gateway: Gateway) -> None:
    auth = {"Authorization": f"Bearer {await gateway.user_key()}"}

    garbled = await gateway.http.post(
        "/v1/chat/completions",
        content=b"{not json",
        headers={**auth, "content-type": "application/json"},
    )
    nowhere = await gateway.http.get("/v1/engines", headers=auth)

    assert assert_openai_error(garbled, 400)["code"] == "invalid_json"
    assert assert_openai_error(nowhere, 404)["type"] == "invalid_request_error"


async def test_the_sdk_raises_bad_request_for_a_bad_body(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())

    with pytest.raises(openai.BadRequestError) as caught:
        await complete(client, model="gpt-4o", messages=[])

    assert caught.value.param == "messages"


async def test_the_per_key_rate_limit_is_a_429_with_retry_after(
    start_gateway: GatewayFactory,
) -> None:
    gateway = await start_gateway(rate_limit_gateway_key="2/minute")
    session = await gateway.sign_up()
    limited = gateway.client((await gateway.new_key(session, "a"))["key"])
    other = gateway.client((await gateway.new_key(session, "b"))["key"])

    for _ in range(2):
        await complete(limited, model="gpt-4o", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as caught:
        await complete(limited, model="gpt-4o", messages=HELLO)
    # The limit is the key's, not the user's: their other key still works.
    await complete(other, model="gpt-4o", messages=HELLO)

    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.type == "requests"
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 60
    assert len(gateway.script.requests) == 3


async def test_an_upstream_failure_before_the_first_token_is_an_http_error(
    gateway: Gateway,
) -> None:
    client = gateway.client(await gateway.user_key())
    # A rejected server key is not retried, and is our fault, not the caller's: 502.
    gateway.script.push(Fail(401), Fail(400, message="prompt is too long"))

    with pytest.raises(openai.InternalServerError) as streamed:
        await stream(client, model="gpt-4o", messages=HELLO)
    with pytest.raises(openai.BadRequestError) as plain:
        await complete(client, model="gpt-4o", messages=HELLO)

    assert streamed.value.status_code == 502
    assert streamed.value.type == "server_error"
    assert streamed.value.code == "ai_auth"
    assert "credentials were rejected" in streamed.value.message
    assert "sk-upstream" not in streamed.value.response.text
    assert plain.value.code == "ai_bad_request"
    assert "prompt is too long" in plain.value.message
    rows = await gateway.usage_rows()
    assert [(r.status, r.input_tokens, r.output_tokens) for r in rows] == [("error", 0, 0)] * 2


async def test_an_upstream_rate_limit_passes_retry_after_on(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())
    # Longer than the provider's retry policy waits, so it is handed to the caller.
    gateway.script.push(Fail(429, headers={"retry-after": "30"}))

    with pytest.raises(openai.RateLimitError) as caught:
        await complete(client, model="gpt-4o", messages=HELLO)

    assert caught.value.response.headers["retry-after"] == "30"


async def test_a_failure_mid_stream_is_an_error_event(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())
    gateway.script.push(ErrorMidStream(text_before="Partial answer"))
    received: list[str] = []

    def consume() -> None:
        chunks = client.chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in chunks:
            received.extend(c.delta.content or "" for c in chunk.choices)

    with pytest.raises(openai.APIError) as caught:
        await asyncio.to_thread(consume)

    assert "".join(received) == "Partial answer"
    assert "reported an error during the answer" in caught.value.message
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "server_error"
    assert caught.value.body["code"] == "ai_upstream"
    [row] = await gateway.usage_rows()
    assert row.status == "error"


async def test_a_failure_mid_stream_on_the_wire(gateway: Gateway) -> None:
    auth = {"Authorization": f"Bearer {await gateway.user_key()}"}
    gateway.script.push(ErrorMidStream(text_before="Part"))

    response = await gateway.http.post(
        "/v1/chat/completions",
        headers=auth,
        json={"model": "gpt-4o", "messages": HELLO, "stream": True},
    )

    assert response.status_code == 200
    events = response.text.removesuffix("\n\n").split("\n\n")
    assert events[-1].startswith('data: {"error":{"message":')
    assert "[DONE]" not in response.text


async def test_an_error_is_recorded_and_the_next_call_works(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())
    gateway.script.push(ErrorMidStream(), Reply("fine"))

    with pytest.raises(openai.APIError):
        await stream(client, model="gpt-4o", messages=HELLO)
    completion = await complete(client, model="gpt-4o", messages=HELLO)

    assert completion.choices[0].message.content == "fine"
    assert [r.status for r in await gateway.usage_rows()] == ["error", "complete"]
