"""One JSON encoder for what is sent often and large: list pages, live-query results and
patches, stream events.

orjson writes the types our rows hold (UUID, aware datetimes, dates, enums) natively, about
four times as fast as pydantic-core's `to_json` on a 50-row page (38 µs against 130-190 µs
here): datetimes in UTC end in `Z`, as pydantic writes them. Anything else (a Decimal, a
pydantic model) goes through pydantic's own JSON mode, so the output is what the read models
would write: a Decimal is its exact string (`"12.50"`), a model its `model_dump(mode="json")`.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic_core import to_jsonable_python

__all__ = ["dumps"]

_OPTIONS = orjson.OPT_UTC_Z


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of `value`. A lone surrogate in a string (not UTF-8) is refused
    with `TypeError`, as it cannot be written as UTF-8."""
    return orjson.dumps(value, default=to_jsonable_python, option=_OPTIONS)
