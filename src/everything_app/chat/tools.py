"""Tools a model may call during a chat turn, run as the user.

Features offer tools through `ToolBoxes` (the planner offers create_task, create_event, ...).
A tool's arguments are validated by its own schema before it runs; invalid arguments raise
ToolFailed, whose message goes back to the model so it can correct itself. Each call is its
own committed unit of work, so a record a tool made exists even if the answer is later
stopped; and a tool's write happens once per user turn, however often its answer is
regenerated (CallKey).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from everything_app.ai import ModelSpec, ToolSpec


class ToolFailed(Exception):
    """A tool call that cannot be done (invalid arguments, an impossible request): its
    message goes back to the model, which can correct itself. The one tool error: tools of
    every feature raise it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CallKey:
    """Which call of which user turn this is: the same key means the same write.

    `message_id` is the user message the turn answers (the same for every regeneration of its
    answer); `key` names the tool, its canonical arguments, and how many identical calls came
    before it in the turn (so "two coffees" is two writes, and regenerating it is still two).
    A runner whose tool writes remembers its output under this key, in the write's own
    transaction, and answers a known key with that output instead of writing again
    (`chat.service.recorded_tool_output` / `record_tool_output`)."""

    message_id: uuid.UUID
    key: str


ToolRunner = Callable[[str, str, uuid.UUID, CallKey | None], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolBox:
    """The tools offered in one turn, and how to run one by name."""

    specs: Sequence[ToolSpec] = ()
    runner: ToolRunner | None = None

    async def call(
        self, name: str, arguments: str, user_id: uuid.UUID, key: CallKey | None = None
    ) -> dict[str, Any]:
        if self.runner is None or name not in {spec.name for spec in self.specs}:
            raise ToolFailed(f"Unknown tool {name!r}.")
        return await self.runner(name, arguments, user_id, key)


NO_TOOLS = ToolBox()


# Features that offer tools add a factory, given the app, the model in use and the user's
# IANA time zone (tools read times without an offset in it).
ToolBoxFactory = Callable[[Any, ModelSpec, str], ToolBox]


class ToolBoxes:
    """The tools the features offer in chat, in one app (added in their `register` step,
    see core.features)."""

    def __init__(self) -> None:
        self._factories: dict[str, ToolBoxFactory] = {}

    def add(self, name: str, factory: ToolBoxFactory) -> None:
        """Offer a feature's tools in chat; adding a name again replaces it."""
        self._factories[name] = factory

    def for_turn(self, app: Any, spec: ModelSpec, timezone: str) -> ToolBox:
        """Every feature's tools, offered together in one turn."""
        boxes = [factory(app, spec, timezone) for factory in self._factories.values()]
        boxes = [box for box in boxes if box.specs]
        if not boxes:
            return NO_TOOLS
        if len(boxes) == 1:
            return boxes[0]
        owners = {spec.name: box for box in boxes for spec in box.specs}

        async def dispatch(
            name: str, arguments: str, user_id: uuid.UUID, key: CallKey | None
        ) -> dict[str, Any]:
            box = owners.get(name)
            if box is None:
                raise ToolFailed(f"Unknown tool {name!r}.")
            return await box.call(name, arguments, user_id, key)

        return ToolBox(specs=[spec for box in boxes for spec in box.specs], runner=dispatch)


def tools_for(app: Any, spec: ModelSpec, timezone: str) -> ToolBox:
    """The tools `app`'s features offer in a turn with `spec`."""
    toolboxes: ToolBoxes = app.state.registry[ToolBoxes]
    return toolboxes.for_turn(app, spec, timezone)


def call_key(message_id: uuid.UUID, name: str, arguments: str, seen: dict[str, int]) -> CallKey:
    """The key of a call in a turn; `seen` counts the identical calls made so far in it."""
    try:
        canonical = json.dumps(json.loads(arguments or "{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = arguments
    digest = hashlib.sha256(f"{name}\0{canonical}".encode()).hexdigest()[:40]
    nth = seen.get(digest, 0)
    seen[digest] = nth + 1
    return CallKey(message_id, f"{name[:100]}:{digest}:{nth}")
