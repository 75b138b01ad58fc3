"""A client that leaves mid-answer stops the upstream, and the partial call is still recorded."""

from __future__ import annotations

import asyncio

from openai.types.chat import ChatCompletionMessageParam

from everything_app.testing import Stall

from .conftest import Gateway

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


async def test_leaving_a_stream_closes_the_upstream_and_records_it(gateway: Gateway) -> None:
    client = gateway.async_client(await gateway.user_key())
    gateway.script.push(Stall(text_before="Partial"))

    try:
        stream = await client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True)
        received = ""
        async for chunk in stream:
            received += chunk.choices[0].delta.content or ""
            if received:
                break
        await gateway.script.stalled.wait()
        await stream.close()

        # The stand-in sees its client (our gateway) leave; the timeout only bounds a failure.
        await asyncio.wait_for(gateway.script.disconnected.wait(), timeout=10)
    finally:
        await client.close()

    assert received == "Partial"
    [row] = await gateway.usage_rows()
    assert (row.status, row.model) == ("canceled", "gpt-4o")


async def test_leaving_a_silent_non_streamed_call_closes_the_upstream(gateway: Gateway) -> None:
    """Without `stream`, nothing is sent until the answer is whole; a client that gives up
    while the model is still silent must stop it all the same."""
    key = await gateway.user_key()
    gateway.script.push(Stall())

    async def call() -> None:
        await gateway.http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "gpt-4o", "messages": HELLO},
        )

    task = asyncio.create_task(call())
    await gateway.script.stalled.wait()
    task.cancel()  # httpx closes the connection

    await asyncio.wait_for(gateway.script.disconnected.wait(), timeout=10)
    [row] = await gateway.usage_rows()
    assert row.status == "canceled"
    assert task.cancelled()
