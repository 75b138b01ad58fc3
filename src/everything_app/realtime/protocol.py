"""The wire protocol: JSON messages in both directions, and the close codes.

Client → server: `subscribe {id, query, args, patch?}`, `unsubscribe {id}`, `ping`, `pong`.
Server → client: `result {id, version, data}`, `patch {id, version, ops}` (only to subscriptions
made with `patch: true`: what changed since `version - 1`, see realtime/patch.py), `error {id,
code, message}`, `pong`, `ping` (heartbeat), `resync {reason}` (fresh results for every
subscription follow).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from everything_app.core.validation import MAX_JSON_DEPTH, Input, too_deep

# Close codes. 4xxx mirror HTTP statuses so that a browser, which sees only the close code
# of a refused socket, can tell "sign in again" from "not allowed".
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_SLOW_CONSUMER = 4008
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_INTERNAL_ERROR = 1011
CLOSE_GOING_AWAY = 1001


class Subscribe(Input):
    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"]
    id: str = Field(min_length=1, max_length=64)
    query: str = Field(min_length=1, max_length=100)
    args: dict[str, Any] = Field(default_factory=dict)
    # Receive `patch` messages (what changed) instead of every whole result.
    patch: bool = False


class Unsubscribe(Input):
    model_config = ConfigDict(extra="forbid")

    type: Literal["unsubscribe"]
    id: str = Field(min_length=1, max_length=64)


class Ping(Input):
    type: Literal["ping"]


class Pong(BaseModel):
    type: Literal["pong"]


ClientMessage = Annotated[Subscribe | Unsubscribe | Ping | Pong, Field(discriminator="type")]
_CLIENT_MESSAGE: TypeAdapter[Subscribe | Unsubscribe | Ping | Pong] = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, sub_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sub_id = sub_id


def parse_client_message(raw: str, max_bytes: int) -> Subscribe | Unsubscribe | Ping | Pong:
    # Characters never outnumber bytes, so the exact (encoding) check is needed only when
    # the text is near the limit.
    if len(raw) > max_bytes or (len(raw) * 4 > max_bytes and len(raw.encode()) > max_bytes):
        raise ProtocolError("message_too_large", f"Messages are limited to {max_bytes} bytes.")
    if too_deep(raw):
        raise ProtocolError(
            "invalid_message", f"The message is nested more than {MAX_JSON_DEPTH} levels deep."
        )
    try:
        return _CLIENT_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        raise _protocol_error(raw, exc) from None


def _protocol_error(raw: str, exc: ValidationError) -> ProtocolError:
    kinds = {error["type"] for error in exc.errors()}
    if "json_invalid" in kinds:
        return ProtocolError("invalid_json", "The message is not valid JSON.")
    if kinds & {"union_tag_invalid", "union_tag_not_found"}:
        return ProtocolError(
            "unknown_type", "Send a JSON object whose `type` is subscribe, unsubscribe or ping."
        )
    sub_id = None
    try:  # name the subscription in the error when the client gave a usable id
        candidate = json.loads(raw).get("id")
        sub_id = candidate if isinstance(candidate, str) and len(candidate) <= 64 else None
    except (ValueError, AttributeError):
        pass
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"][1:])
    message = f"{where}: {first['msg']}" if where else "Send a JSON object with a `type`."
    return ProtocolError("invalid_message", message, sub_id)


def frame(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def error_frame(
    sub_id: str | None, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> str:
    body: dict[str, Any] = {"type": "error", "id": sub_id, "code": code, "message": message}
    if details:
        body["details"] = details
    return frame(body)


def result_frame(sub_id: str, version: int, data: str) -> str:
    """`data` is already JSON: one query result, serialised once, is shared by every
    subscriber of that query, so only the envelope is built per subscriber."""
    return f'{{"type":"result","id":{json.dumps(sub_id)},"version":{version},"data":{data}}}'


def patch_frame(sub_id: str, version: int, ops: str) -> str:
    """`ops` (JSON) turn the result of `version - 1` into that of `version`."""
    return f'{{"type":"patch","id":{json.dumps(sub_id)},"version":{version},"ops":{ops}}}'


PING_FRAME = frame({"type": "ping"})
PONG_FRAME = frame({"type": "pong"})


def resync_frame(reason: str) -> str:
    return frame({"type": "resync", "reason": reason})
