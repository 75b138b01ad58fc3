"""A fixed-schedule OpenAI Chat Completions fake for benchmarks (stdlib asyncio, no framework).

`POST /v1/chat/completions` with `stream: true` answers with N tokens, D ms apart on a fixed
schedule from the start of the reply (token i at i·D, so sleep jitter does not accumulate):
model `fake-<N>x<D>ms` (e.g. `fake-64x5ms`), any other model 64 tokens 5 ms apart;
`max_tokens` smaller than N cuts the reply. Non-streamed requests get the whole text at once.
Then a usage chunk if asked (`stream_options.include_usage`), then `[DONE]`. Keep-alive,
chunked transfer encoding, any Authorization accepted. Cheap on purpose: it shares the
machine with what it measures.

    python bench/fake_model.py --port 8786
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re

WORDS = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
_MODEL = re.compile(r"^fake-(\d+)x(\d+(?:\.\d+)?)ms$")


def schedule(model: str, max_tokens: int | None) -> tuple[int, float]:
    found = _MODEL.match(model)
    count, delay = (int(found[1]), float(found[2]) / 1000) if found else (64, 0.005)
    return (min(count, max_tokens) if max_tokens else count), delay


def _chunk(model: str, delta: dict[str, object], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return _frame(b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n")


def _frame(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _reply(writer: asyncio.StreamWriter, body: dict[str, object]) -> None:
    model = str(body.get("model", "fake"))
    raw_max = body.get("max_completion_tokens") or body.get("max_tokens")
    count, delay = schedule(model, raw_max if isinstance(raw_max, int) else None)
    words = [WORDS[i % len(WORDS)] + ("" if i == count - 1 else " ") for i in range(count)]
    finish = "length" if count < schedule(model, None)[0] else "stop"
    if not body.get("stream"):
        payload = json.dumps(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(words)},
                        "finish_reason": finish,
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": count},
            }
        ).encode()
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        writer.write(head % len(payload) + payload)
        return
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\n\r\n" + _chunk(model, {"role": "assistant", "content": ""})
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i, word in enumerate(words):
        wait = started + i * delay - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        writer.write(_chunk(model, {"content": word}))
    tail = _chunk(model, {}, finish)
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        usage = {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": count + 10}
        tail += _frame(
            b"data: "
            + json.dumps(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            ).encode()
            + b"\n\n"
        )
    writer.write(tail + _frame(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    await writer.drain()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = head.split(b" ", 2)[:2]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length)) if length else {}
            if method == b"POST" and path.startswith(b"/v1/chat/completions"):
                await _reply(writer, body)
            else:
                models = b'{"object":"list","data":[]}'
                head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n"
                writer.write(head % len(models) + models)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8786)
    args = parser.parse_args()
    server = await asyncio.start_server(_serve, args.host, args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop  # cheaper; the server's uvicorn[standard] depends on it anyway

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
