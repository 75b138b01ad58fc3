"""A stand-in for OpenAI's Chat Completions API, speaking its exact wire format.

`POST /v1/chat/completions` (streamed and not) and `GET /v1/models`, with Bearer auth, OpenAI's
error bodies, and behaviour chosen by a `Script`. Run one with
`python -m everything_app.testing.openai_server --port 8001`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
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

_STOP_NAMES = {"stop": "stop", "length": "length", "tool": "tool_calls"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
}


class OpenAIStandin:
    def __init__(
        self,
        *,
        api_key: str = "sk-standin",
        models: Sequence[str] = ("gpt-4o-mini", "gpt-4o"),
        script: Script | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.script = script or Script()
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._list_models, methods=["GET"]),
            ]
        )

    async def _list_models(self, request: Request) -> Response:
        self.script.record(_recorded(request, None))
        if (denied := self._check_auth(request)) is not None:
            return denied
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
                    for m in self.models
                ],
            }
        )

    async def _chat_completions(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.script.record(_recorded(request, body))
        if (denied := self._check_auth(request)) is not None:
            return denied
        if not isinstance(body, dict):
            return error_response(400, "We could not parse the JSON body of your request.")
        if (invalid := self._validate(body)) is not None:
            return invalid

        messages: list[dict[str, Any]] = body["messages"]
        last_user: dict[str, Any] = next(
            (m for m in reversed(messages) if m.get("role") == "user"), {}
        )
        tool_result = (
            text_of(messages[-1].get("content")) if messages[-1]["role"] == "tool" else None
        )
        behaviour = self.script.next_behaviour(
            text_of(last_user.get("content")), tool_result, _tool_demand(body)
        )
        if isinstance(behaviour, Fail):
            return error_response(
                behaviour.status,
                behaviour.message,
                error_type=behaviour.error_type,
                code="rate_limit_exceeded" if behaviour.status == 429 else None,
                headers=behaviour.headers,
            )
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        plan = make_plan(behaviour, max_tokens=max_tokens, call_id_prefix="call_standin_")
        prompt_tokens = sum(count_tokens(text_of(m.get("content"))) for m in messages)
        completion_id = f"chatcmpl-standin{next(self._ids)}"
        if body.get("stream"):
            options = body.get("stream_options") or {}
            stream = _Stream(
                completion_id, body["model"], prompt_tokens, bool(options.get("include_usage"))
            )
            return EventStreamResponse(
                stream.render(plan, self.script), on_disconnect=self.script.client_left
            )
        if plan.ending == "stall":
            await self.script.wait_released()
            assert plan.resume is not None
            plan = plan.resume
        elif plan.ending != "finish":
            return error_response(500, "The server had an error while processing your request.")
        return JSONResponse(_completion(completion_id, body["model"], plan, prompt_tokens))

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header:
            return error_response(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if header != f"Bearer {self.api_key}":
            shown = header.removeprefix("Bearer ")[:6]
            return error_response(
                401, f"Incorrect API key provided: {shown}***.", code="invalid_api_key"
            )
        return None

    def _validate(self, body: dict[str, Any]) -> Response | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return error_response(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error_response(400, "[] is too short - 'messages'", param="messages")
        if model not in self.models:
            return error_response(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return (
            _validate_messages(messages)
            or _validate_tools(body.get("tools"))
            or _validate_tool_choice(body.get("tool_choice"), body.get("tools"))
        )


def _tool_names(tools: Any) -> list[str]:
    return [t["function"]["name"] for t in tools or ()]


def _validate_tool_choice(choice: Any, tools: Any) -> Response | None:
    if choice is None:
        return None
    if not tools:
        return error_response(
            400,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        if choice in {"auto", "none", "required"}:
            return None
        return error_response(400, f"Invalid value: '{choice}'.", param="tool_choice")
    name = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not name:
        return error_response(400, "Invalid value for 'tool_choice'.", param="tool_choice")
    if name not in _tool_names(tools):
        return error_response(
            400,
            f"Invalid value for 'tool_choice': function '{name}' is not in 'tools'.",
            param="tool_choice",
        )
    return None


def _tool_demand(body: dict[str, Any]) -> ToolDemand | None:
    """What a (validated) `tool_choice` asks of the model."""
    choice = body.get("tool_choice")
    if choice is None or choice == "auto":
        return None
    if choice == "none":
        return ToolDemand(may_call=False)
    if choice == "required":
        return ToolDemand(must_call=_tool_names(body["tools"])[0])
    return ToolDemand(must_call=choice["function"]["name"])


def _validate_messages(messages: list[Any]) -> Response | None:
    """The ordering rules OpenAI enforces around tool calls."""
    awaiting: set[str] = set()
    for message in messages:
        role = message.get("role") if isinstance(message, dict) else None
        if role not in {"system", "developer", "user", "assistant", "tool"}:
            return error_response(400, f"Invalid value: '{role}'.", param="messages")
        if role == "tool":
            if message.get("tool_call_id") not in awaiting:
                return error_response(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param="messages",
                )
            awaiting.discard(message["tool_call_id"])
            continue
        if awaiting:
            return _unanswered(awaiting)
        if role == "assistant":
            awaiting = {call["id"] for call in message.get("tool_calls") or ()}
    return _unanswered(awaiting) if awaiting else None


def _unanswered(ids: set[str]) -> Response:
    return error_response(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        f"{', '.join(sorted(ids))}",
        param="messages",
    )


def _validate_tools(tools: Any) -> Response | None:
    if tools is None:
        return None
    for tool in tools if isinstance(tools, list) else [None]:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return error_response(400, "Missing required parameter: 'tools[0].function'.")
    return None


class _Stream:
    def __init__(self, completion_id: str, model: str, prompt_tokens: int, usage: bool) -> None:
        self._id = completion_id
        self._model = model
        self._prompt_tokens = prompt_tokens
        self._usage = usage
        self._created = int(time.time())
        self._emitted: list[str] = []  # text and arguments sent, for the usage count

    async def render(self, plan: Plan, script: Script) -> AsyncIterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        async for data in self._body(plan, script):
            yield data

    async def _body(self, plan: Plan, script: Script) -> AsyncIterator[bytes]:
        for number, piece in enumerate(plan.text_chunks):
            if number and plan.chunk_delay:
                await asyncio.sleep(plan.chunk_delay)
            self._emitted.append(piece)
            yield self._chunk({"content": piece})
        for index, call in enumerate(plan.calls):
            self._emitted.append(f" {call.arguments} ")
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield self._chunk({"tool_calls": [first]})
            for fragment in call.fragments:
                yield self._chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
                )
        if plan.ending == "error":
            error = {
                "message": plan.error_message,
                "type": plan.error_type or "server_error",
                "param": None,
                "code": None,
            }
            yield _sse({"error": error})
            return
        if plan.ending == "malformed":
            yield b"data: {this is not json\n\n"
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
        yield self._chunk({}, finish_reason=plan.finish_reason or _STOP_NAMES[plan.stop])
        if self._usage:
            completion_tokens = count_tokens("".join(self._emitted))
            yield _sse(self._frame([], usage=_usage(self._prompt_tokens, completion_tokens)))
        yield b"data: [DONE]\n\n"

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _sse(self._frame([choice], usage=None))

    def _frame(self, choices: list[dict[str, Any]], usage: dict[str, int] | None) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "system_fingerprint": "fp_standin",
            "choices": choices,
        }
        if self._usage:  # with include_usage, every chunk carries the key, null until the last
            frame["usage"] = usage
        return frame


def _completion(completion_id: str, model: str, plan: Plan, prompt_tokens: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text or None, "refusal": None}
    if plan.calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in plan.calls
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_standin",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": plan.finish_reason or _STOP_NAMES[plan.stop],
            }
        ],
        "usage": _usage(prompt_tokens, plan.output_tokens),
    }


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def error_response(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    headers: Any = None,
) -> JSONResponse:
    error = {
        "message": message,
        "type": error_type or _ERROR_TYPES.get(status, "server_error"),
        "param": param,
        "code": code,
    }
    return JSONResponse({"error": error}, status_code=status, headers=dict(headers or {}))


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def _recorded(request: Request, body: Any) -> RecordedRequest:
    return RecordedRequest(request.method, request.url.path, dict(request.headers), body)


def main() -> None:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default="sk-standin")
    args = parser.parse_args()
    uvicorn.run(OpenAIStandin(api_key=args.api_key).app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
