"""The one base of every request body, query and argument model the API accepts.

It refuses text that the database could not store: the NUL character (`\\u0000`), which
PostgreSQL's text type rejects outright. Refusing it here answers 422 naming the field, the
same on SQLite as on PostgreSQL, instead of a 500 from the database halfway through a write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError


def _nul_at(value: Any, path: str) -> str | None:
    """Where in `value` (a parsed JSON document, or query parameters) a NUL is, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where
            found = _nul_at(item, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


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
