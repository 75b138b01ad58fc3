"""AI chat: sessions and messages, streamed answers (the AI SDK's protocols), tools that
other features offer the model, and the live session and message lists.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.chat.generation import ChatLimits, Generations, mark_orphaned_answers
    from everything_app.chat.models import ChatSession, Message, ToolCallRecord
    from everything_app.chat.registration import feature
    from everything_app.chat.service import (
        end_abandoned_answers,
        record_tool_output,
        recorded_tool_output,
    )
    from everything_app.chat.tools import CallKey, ToolBox, ToolBoxes, ToolFailed

__all__ = [
    "CallKey",
    "ChatLimits",
    "ChatSession",
    "Generations",
    "Message",
    "ToolBox",
    "ToolBoxes",
    "ToolCallRecord",
    "ToolFailed",
    "end_abandoned_answers",
    "feature",
    "mark_orphaned_answers",
    "record_tool_output",
    "recorded_tool_output",
]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "ChatLimits": "generation",
            "Generations": "generation",
            "mark_orphaned_answers": "generation",
            "ChatSession": "models",
            "Message": "models",
            "ToolCallRecord": "models",
            "feature": "registration",
            "end_abandoned_answers": "service",
            "record_tool_output": "service",
            "recorded_tool_output": "service",
            "CallKey": "tools",
            "ToolBox": "tools",
            "ToolBoxes": "tools",
            "ToolFailed": "tools",
        },
    )
