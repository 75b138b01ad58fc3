"""A fixed-schedule OpenAI-compatible model for the gateway benchmark (bench/gateway.py).

`POST /v1/chat/completions` with `stream: true` answers N one-word tokens, token i at
`start + i·D` (no drift from sleep jitter), as OpenAI's chunks: the role chunk, one content
chunk per token, the finish chunk, the usage chunk when `stream_options.include_usage`, then
`[DONE]`. N and D come from the model name (`fake-64x5ms`) or from `--tokens`/`--delay-ms`.
`GET /v1/models` answers a list (used to wait until it is up). Nothing else: this is a load
source whose own CPU per stream is the "direct call" the gateway's CPU is compared with, so it
is a bare asyncio protocol server (uvloop when importable), with no framework in the way.

    python bench/gateway_model.py --port 8794 [--tokens 64] [--delay-ms 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import time
from typing import Any

_MODEL_RE = re.compile(r"^fake-(\d+)x(\d+(?:\.\d+)?)ms$")
_WORDS = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]


def _chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(payload: dict[str, Any]) -> bytes:
    return _chunk(b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n")


class FakeModel:
    def __init__(self, tokens: int, delay_ms: float) -> None:
        self.tokens = tokens
        self.delay = delay_ms / 1000
        self._ids = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                close = headers.get("connection", "").lower() == "close"
                if method == "GET" and path.startswith("/v1/models"):
                    await self._json(writer, {"object": "list", "data": []}, close)
                elif method == "POST" and path == "/v1/chat/completions":
                    await self._completion(writer, json.loads(body), close)
                else:
                    await self._json(writer, {"error": {"message": "not found"}}, close, 404)
                if close:
                    return
        finally:
            writer.close()

    async def _json(
        self, writer: asyncio.StreamWriter, data: dict[str, Any], close: bool, status: int = 200
    ) -> None:
        payload = json.dumps(data).encode()
        writer.write(
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
            % (status, len(payload), b"connection: close\r\n" if close else b"", payload)
        )
        await writer.drain()

    async def _completion(
        self, writer: asyncio.StreamWriter, body: dict[str, Any], close: bool
    ) -> None:
        model = str(body.get("model", "fake"))
        tokens, delay = self.tokens, self.delay
        if match := _MODEL_RE.match(model):
            tokens, delay = int(match[1]), float(match[2]) / 1000
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and limit < tokens:
            tokens, finish = limit, "length"
        self._ids += 1
        frame = {
            "id": f"chatcmpl-fake{self._ids}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
        }
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if usage:
            frame["usage"] = None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return _event({**frame, "choices": [choice]})

        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n%s\r\n"
            % (b"connection: close\r\n" if close else b"")
            + chunk({"role": "assistant", "content": ""})
        )
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(tokens):
            wait = start + i * delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            word = _WORDS[i % len(_WORDS)]
            writer.write(chunk({"content": word if i == 0 else " " + word}))
            await writer.drain()
        tail = chunk({}, finish)
        if usage:
            prompt = sum(len(str(m.get("content", "")).split()) + 3 for m in body["messages"])
            counts = {"prompt_tokens": prompt, "completion_tokens": tokens}
            counts["total_tokens"] = prompt + tokens
            tail += _event({**frame, "usage": counts})
        writer.write(tail + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()


async def serve(host: str, port: int, tokens: int, delay_ms: float) -> None:
    model = FakeModel(tokens, delay_ms)
    server = await asyncio.start_server(model.handle, host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8794)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    # A load source with nothing to flush: stop at once, whatever connections are open.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    asyncio.run(serve(args.host, args.port, args.tokens, args.delay_ms))


if __name__ == "__main__":
    main()
