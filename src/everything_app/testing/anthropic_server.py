"""A stand-in for Anthropic's Messages API, speaking its exact wire format.

`POST /v1/messages` (streamed with `event:` lines, and not), `x-api-key` or Bearer auth, the
`anthropic-version` header, Anthropic's error bodies and its tool_use/tool_result pairing rules;
behaviour chosen by a `Script`. Run one with
`python -m everything_app.testing.anthropic_server --port 8002`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from everything_app.testing.plan import Plan, make_plan
from everything_app.testing.script import (
    Fail,
    RecordedRequest,
    Script,
    ToolDemand,
    count_tokens,
    text_of,
)
from everything_app.testing.sse import EventStreamResponse

_STOP_NAMES = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class AnthropicStandin:
    def __init__(
        self,
        *,
        api_key: str = "sk-ant-standin",
        models: Sequence[str] = ("claude-sonnet-4-5", "claude-haiku-4-5"),
        script: Script | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.script = script or Script()
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.script.record(
            RecordedRequest(request.method, request.url.path, dict(request.headers), body)
        )
        if (denied := self._check_headers(request)) is not None:
            return denied
        if not isinstance(body, dict):
            return error_response(400, "There was an issue with your request body: invalid JSON")
        if (invalid := self._validate(body)) is not None:
            return invalid

        messages: list[dict[str, Any]] = body["messages"]
        behaviour = self.script.next_behaviour(*_prompt(messages), _tool_demand(body))
        if isinstance(behaviour, Fail):
            return error_response(
                behaviour.status,
                behaviour.message,
                error_type=behaviour.error_type,
                headers=behaviour.headers,
            )
        plan = make_plan(behaviour, max_tokens=body["max_tokens"], call_id_prefix="toolu_standin_")
        input_tokens = count_tokens(text_of(body.get("system"))) + sum(
            count_tokens(text_of(m.get("content"))) for m in messages
        )
        message_id = f"msg_standin{next(self._ids)}"
        if body.get("stream"):
            stream = _Stream(message_id, body["model"], input_tokens)
            return EventStreamResponse(
                stream.render(plan, self.script),
                on_disconnect=self.script.client_left,
                headers={"request-id": f"req_{message_id}"},
            )
        if plan.ending == "stall":
            await self.script.wait_released()
            assert plan.resume is not None
            plan = plan.resume
        elif plan.ending != "finish":
            return error_response(500, "Internal server error")
        return JSONResponse(_message(message_id, body["model"], plan, input_tokens))

    def _check_headers(self, request: Request) -> Response | None:
        # The API takes the key as `x-api-key` (older SDKs) or as a Bearer token (SDK 2.x).
        bearer = request.headers.get("authorization", "")
        key = request.headers.get("x-api-key") or (
            bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None
        )
        if not key:
            return error_response(401, "x-api-key header is required")
        if key != self.api_key:
            return error_response(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error_response(400, "anthropic-version: header is required")
        return None

    def _validate(self, body: dict[str, Any]) -> Response | None:
        for name, kind in (("model", str), ("max_tokens", int), ("messages", list)):
            if not isinstance(body.get(name), kind):
                return error_response(400, f"{name}: Field required")
        if body["max_tokens"] < 1:
            return error_response(400, "max_tokens: Input should be greater than or equal to 1")
        if not body["messages"]:
            return error_response(400, "messages: at least one message is required")
        if body["model"] not in self.models:
            return error_response(404, f"model: {body['model']}")
        return (
            _validate_messages(body["messages"])
            or _validate_tools(body.get("tools"))
            or _validate_tool_choice(body.get("tool_choice"), body.get("tools"))
        )


def _validate_messages(messages: list[Any]) -> Response | None:
    """The content rules the Messages API enforces, notably tool_use/tool_result pairing."""
    pending: set[str] = set()
    for n, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "system":
            return error_response(
                400,
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.',
            )
        if role not in {"user", "assistant"}:
            return error_response(400, f"messages.{n}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            return error_response(400, f"messages.{n}.content: Input should be a valid list")
        if any(b.get("type") == "text" and not b.get("text") for b in blocks):
            return error_response(400, "messages: text content blocks must be non-empty")
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending - results:
            return error_response(
                400,
                f"messages.{n}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(pending - results))}. Each `tool_use` "
                "block must have a corresponding `tool_result` block in the next message.",
            )
        if results - pending:
            return error_response(
                400,
                f"messages.{n}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{', '.join(sorted(str(r) for r in results - pending))}. Each `tool_result` "
                "block must have a corresponding `tool_use` block in the previous message.",
            )
        pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}
    return None


def _validate_tools(tools: Any) -> Response | None:
    if tools is None:
        return None
    for n, tool in enumerate(tools if isinstance(tools, list) else [None]):
        if not isinstance(tool, dict) or not isinstance(tool.get("input_schema"), dict):
            return error_response(400, f"tools.{n}.custom.input_schema: Field required")
    return None


def _validate_tool_choice(choice: Any, tools: Any) -> Response | None:
    if choice is None:
        return None
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in {"auto", "any", "tool", "none"}:
        return error_response(
            400, "tool_choice: Input tag does not match any of the expected tags: "
            "'auto', 'any', 'tool', 'none'"
        )  # fmt: skip
    if not tools:
        return error_response(400, "tool_choice may only be specified while providing tools.")
    names = [t.get("name") for t in tools]
    if kind == "tool" and choice.get("name") not in names:
        return error_response(400, f"Tool '{choice.get('name')}' not found in provided tools")
    return None


def _tool_demand(body: dict[str, Any]) -> ToolDemand | None:
    """What a (validated) `tool_choice` asks of the model ("any": some tool, the first)."""
    choice: dict[str, Any] = body.get("tool_choice") or {"type": "auto"}
    if choice["type"] == "auto":
        return None
    if choice["type"] == "none":
        return ToolDemand(may_call=False)
    named = choice["name"] if choice["type"] == "tool" else body["tools"][0]["name"]
    return ToolDemand(must_call=named)


def _prompt(messages: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The user's latest own words, and the tool results if the conversation ends in them."""
    user_text = ""
    for message in reversed(messages):
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        texts = [b for b in blocks if b.get("type") == "text"]
        if message.get("role") == "user" and texts:
            user_text = text_of(texts)
            break
    last = messages[-1].get("content")
    results = [b for b in last if b.get("type") == "tool_result"] if isinstance(last, list) else []
    return user_text, text_of(results) if results else None


class _Stream:
    def __init__(self, message_id: str, model: str, input_tokens: int) -> None:
        self._id = message_id
        self._model = model
        self._input_tokens = input_tokens
        self._index = 0
        self._text_open = False
        self._emitted: list[str] = []  # text and arguments sent, for the usage count

    async def render(self, plan: Plan, script: Script) -> AsyncIterator[bytes]:
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self._input_tokens, "output_tokens": 1},
        }
        yield _event("message_start", {"type": "message_start", "message": message})
        yield _event("ping", {"type": "ping"})
        async for data in self._body(plan, script):
            yield data

    async def _body(self, plan: Plan, script: Script) -> AsyncIterator[bytes]:
        for number, piece in enumerate(plan.text_chunks):
            if number and plan.chunk_delay:
                await asyncio.sleep(plan.chunk_delay)
            if not self._text_open:
                self._text_open = True
                yield _event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": self._index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            self._emitted.append(piece)
            delta = {"type": "text_delta", "text": piece}
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": self._index, "delta": delta},
            )
        if plan.ending == "error":
            error = {"type": plan.error_type or "overloaded_error", "message": plan.error_message}
            yield _event("error", {"type": "error", "error": error})
            return
        if plan.ending == "malformed":
            yield b"event: content_block_delta\ndata: {this is not json\n\n"
            return
        if plan.ending == "truncate":
            return
        if plan.ending == "stall":
            script.stalled.set()
            await script.wait_released()
            assert plan.resume is not None
            async for data in self._body(plan.resume, script):
                yield data
            return
        for data in self._close_text():
            yield data
        for call in plan.calls:
            self._emitted.append(f" {call.arguments} ")
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
            yield _event(
                "content_block_start",
                {"type": "content_block_start", "index": self._index, "content_block": block},
            )
            for fragment in call.fragments:
                delta = {"type": "input_json_delta", "partial_json": fragment}
                yield _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": self._index, "delta": delta},
                )
            yield _event("content_block_stop", {"type": "content_block_stop", "index": self._index})
            self._index += 1
        stop = {"stop_reason": plan.finish_reason or _STOP_NAMES[plan.stop], "stop_sequence": None}
        usage = {"output_tokens": count_tokens("".join(self._emitted))}
        yield _event("message_delta", {"type": "message_delta", "delta": stop, "usage": usage})
        yield _event("message_stop", {"type": "message_stop"})

    def _close_text(self) -> list[bytes]:
        if not self._text_open:
            return []
        self._text_open = False
        self._index += 1
        return [
            _event("content_block_stop", {"type": "content_block_stop", "index": self._index - 1})
        ]


def _message(message_id: str, model: str, plan: Plan, input_tokens: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": plan.text}] if plan.text else []
    content.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments or "{}")}
        for c in plan.calls
    )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": plan.finish_reason or _STOP_NAMES[plan.stop],
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": plan.output_tokens},
    }


def error_response(
    status: int, message: str, *, error_type: str | None = None, headers: Any = None
) -> JSONResponse:
    kind = error_type or _ERROR_TYPES.get(status, "api_error")
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}},
        status_code=status,
        headers={"request-id": "req_standin_error", **dict(headers or {})},
    )


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def main() -> None:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--api-key", default="sk-ant-standin")
    args = parser.parse_args()
    uvicorn.run(AnthropicStandin(api_key=args.api_key).app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
