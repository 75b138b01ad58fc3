"""The one base of every request body, query and argument model the API accepts.

It refuses text that the database could not store: the NUL character (`\\u0000`), which
PostgreSQL's text type rejects outright. Refusing it here answers 422 naming the field, the
same on SQLite as on PostgreSQL, instead of a 500 from the database halfway through a write.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError


def _nul_at(value: Any, path: str) -> str | None:
    """Where in `value` (a parsed JSON document, or query parameters) a NUL is, if any.

    Iterative, in document order: a deeply nested document must not exhaust the stack."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return where
        elif isinstance(current, Mapping):
            children: list[tuple[Any, str]] = []
            for key, item in current.items():
                inner = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and "\x00" in key:
                    # Checked before the values that follow it, as a recursive walk would.
                    children.append((key, inner))
                children.append((item, inner))
            pending.extend(reversed(children))
        elif isinstance(current, list | tuple):
            pending.extend(
                reversed([(item, f"{where}[{index}]") for index, item in enumerate(current)])
            )
    return None


# How deeply a JSON document may nest. Ours need a handful of levels; a limit far above that
# keeps every later walk (parsing, validation, logging) clear of the stack's depth, and is
# checked on the raw text before anything is parsed (see JsonDepth).
MAX_JSON_DEPTH = 64
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


class JsonDepth:
    """How deep a JSON text nests, read incrementally (a body arrives in chunks).

    Only brackets outside strings count; the text need not be valid JSON (the parser says
    what else is wrong). Runs over the structural characters only, so it costs little even
    on a large body."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.exceeded = False
        self._in_string = False
        self._skip_at = -1  # the offset of a character escaped by a backslash
        self._offset = 0

    def feed(self, chunk: bytes | str) -> bool:
        """Read the next chunk; True once the depth has gone over the limit."""
        data = chunk.encode() if isinstance(chunk, str) else chunk
        if self.exceeded:
            return True
        for match in _STRUCTURE.finditer(data):
            at = self._offset + match.start()
            if at == self._skip_at:
                continue
            char = match.group()
            if self._in_string:
                if char == b"\\":
                    self._skip_at = at + 1
                elif char == b'"':
                    self._in_string = False
            elif char == b'"':
                self._in_string = True
            elif char in (b"[", b"{"):
                self.depth += 1
                if self.depth > self.limit:
                    self.exceeded = True
                    return True
            elif char in (b"]", b"}"):
                self.depth = max(0, self.depth - 1)
        self._offset += len(data)
        return False


def too_deep(text: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    return JsonDepth(limit).feed(text)


def is_json_media_type(content_type: str) -> bool:
    """Whether FastAPI parses a body of this (present) content type as JSON:
    `application/json` or `application/*+json`, read the way its request handler reads it
    (`email.message`: parameters, case and spacing as mail headers allow)."""
    if content_type == "application/json":
        return True  # the common case, without building a message
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class Input(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        where = _nul_at(data, "")
        if where is not None:
            raise PydanticCustomError(
                "nul_character",
                "Text may not contain the NUL character (\\u0000): {where}",
                {"where": where or "value"},
            )
        return data
