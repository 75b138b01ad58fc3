"""The planner in chat: its tools offered to the model, and the offline assistant taught to
turn plain sentences into the same tool calls.

With a real model, the model picks a tool and its arguments; they are validated by the tool
(and the REST schemas) and run as the user, each in its own committed unit of work. With the
offline model, `parse_sentence` picks them deterministically; what it does not understand
gets the list of what it can do, never a guessed record.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from everything_app.ai import NOT_CONFIGURED, ChatMessage, ModelSpec, Reply, ToolCall, ToolSpec
from everything_app.chat import (
    CallKey,
    ToolBox,
    record_tool_output,
    recorded_tool_output,
)
from everything_app.core.db import UnitOfWork, unit_of_work, utcnow
from everything_app.planner.replies import describe
from everything_app.planner.sentences import HELP, parse_sentence
from everything_app.planner.tools import TOOLS, run_tool

SPECS = [
    ToolSpec(name=name, description=tool.description, parameters=tool.args.model_json_schema())
    for name, tool in TOOLS.items()
]
_TIMEZONE_LINE = re.compile(r"^Time zone: (?P<tz>\S+)$", re.MULTILINE)


def planner_toolbox(app: Any, spec: ModelSpec, timezone: str) -> ToolBox:
    async def run(
        name: str, arguments: str, user_id: uuid.UUID, key: CallKey | None
    ) -> dict[str, Any]:
        tool = TOOLS.get(name)
        # Writes happen once per user turn: a regenerated answer that makes the same call gets
        # the first call's output (reads run again: they should see what is there now).
        once = key if tool is not None and tool.writes else None

        def unit() -> UnitOfWork:
            return unit_of_work(
                app.state.sessionmaker, write=True, user_id=user_id, bus=app.state.changes
            )

        try:
            async with unit() as db:
                if once is not None and (done := await recorded_tool_output(db, once)) is not None:
                    return done
                result = await run_tool(db, user_id, name, arguments, utcnow(), timezone)
                if once is not None:
                    await record_tool_output(db, user_id, once, name, result)
        except IntegrityError:
            if once is None:
                raise
            # The same call was recorded meanwhile (a racing retry of this turn): ours rolled
            # back with its write, and the one that landed answers.
            async with unit() as db:
                if (done := await recorded_tool_output(db, once)) is not None:
                    return done
            raise
        return result

    return ToolBox(specs=SPECS, runner=run)


def _timezone(messages: Sequence[ChatMessage]) -> str:
    """The user's zone, from the system prompt chat gives every model."""
    for message in messages:
        if message.role == "system" and (match := _TIMEZONE_LINE.search(message.content)):
            return match.group("tz")
    return "UTC"


def offline_planner(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Reply | None:
    """Sentence → tool call; tool result → a sentence saying what was done."""
    if not any(tool.name in TOOLS for tool in tools) or not messages:
        return None
    timezone = _timezone(messages)
    last = messages[-1]
    if last.role == "tool":
        return Reply(text=_report(messages, last, timezone))
    if last.role != "user":
        return None
    invocation = parse_sentence(last.content, utcnow(), timezone)
    if invocation is None:
        # Say what it can do, and why it cannot do more: no model is behind it.
        return Reply(text=f"{HELP}\n\n{NOT_CONFIGURED}")
    call = ToolCall(
        id=f"call_{uuid.uuid4().hex[:12]}",
        name=invocation.name,
        arguments=invocation.args.model_dump_json(exclude_none=True),
    )
    return Reply(tool_calls=[call])


def _report(messages: Sequence[ChatMessage], result: ChatMessage, timezone: str) -> str:
    calls = {call.id: call.name for m in messages if m.role == "assistant" for call in m.tool_calls}
    name = calls.get(result.tool_call_id or "", "")
    data = json.loads(result.content)
    if "error" in data:
        return f"I couldn't do that: {data['error']}"
    return describe(name, data, timezone)
