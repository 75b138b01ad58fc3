"""The AI SDK UI message stream (ai 5 and 6): chunk builders and SSE framing.

Rules its client enforces: no `null` for optional fields (omit them), no unknown keys, and
every delta follows a start with the same id. See PROTOCOLS.md.
"""

from __future__ import annotations

from typing import Any

from everything_app.core.sse import event, json_bytes

HEADERS = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-vercel-ai-ui-message-stream": "v1",
    "x-accel-buffering": "no",
}
# The session an answer belongs to, on every chat answer: a `{content}` client sends
# it back as `session_id` to continue the conversation. Also the start chunk's metadata.
SESSION_HEADER = "X-Chat-Session-Id"

Chunk = dict[str, Any]


def sse(chunk: Chunk) -> bytes:
    """One SSE event, encoded by pydantic-core's Rust JSON (compact, UTF-8)."""
    return event(json_bytes(chunk))


def text_delta_sse(part_id: str, delta: str) -> bytes:
    """`sse(text_delta(part_id, delta))` without building the dict: the per-token frame, from
    a byte template (only the delta is encoded)."""
    return (
        b'data: {"type":"text-delta","id":'
        + json_bytes(part_id)
        + b',"delta":'
        + json_bytes(delta)
        + b"}\n\n"
    )


def start(message_id: str, metadata: dict[str, Any] | None = None) -> Chunk:
    """`messageMetadata` lands in the assembled message's `metadata` (ai 5 and 6)."""
    chunk: Chunk = {"type": "start", "messageId": message_id}
    if metadata:
        chunk["messageMetadata"] = metadata
    return chunk


def start_step() -> Chunk:
    return {"type": "start-step"}


def finish_step() -> Chunk:
    return {"type": "finish-step"}


def text_start(part_id: str) -> Chunk:
    return {"type": "text-start", "id": part_id}


def text_delta(part_id: str, delta: str) -> Chunk:
    return {"type": "text-delta", "id": part_id, "delta": delta}


def text_end(part_id: str) -> Chunk:
    return {"type": "text-end", "id": part_id}


def tool_input_start(call_id: str, name: str) -> Chunk:
    return {"type": "tool-input-start", "toolCallId": call_id, "toolName": name}


def tool_input_delta(call_id: str, delta: str) -> Chunk:
    return {"type": "tool-input-delta", "toolCallId": call_id, "inputTextDelta": delta}


def tool_input_available(call_id: str, name: str, tool_input: Any) -> Chunk:
    return {
        "type": "tool-input-available",
        "toolCallId": call_id,
        "toolName": name,
        "input": tool_input,
    }


def tool_output_available(call_id: str, output: Any) -> Chunk:
    return {"type": "tool-output-available", "toolCallId": call_id, "output": output}


def tool_output_error(call_id: str, error_text: str) -> Chunk:
    return {"type": "tool-output-error", "toolCallId": call_id, "errorText": error_text}


def error(error_text: str) -> Chunk:
    return {"type": "error", "errorText": error_text}


def abort() -> Chunk:
    return {"type": "abort"}


def finish(reason: str) -> Chunk:
    return {"type": "finish", "finishReason": reason}
