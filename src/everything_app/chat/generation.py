"""Answers that belong to the server, not to the connection.

A generation runs as its own task: it streams from the provider, keeps every UI chunk it
produced (so a reconnecting client replays the answer from its start), writes the answer to
the database as it grows, and finishes it with usage and a status — whether or not anyone is
still listening. Stopping cancels the provider call and keeps what was generated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.ai import (
    ChatMessage,
    Finish,
    ModelSpec,
    ProviderError,
    Providers,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from everything_app.chat import ui_stream as ui
from everything_app.chat.admission import Admission, Slot
from everything_app.chat.models import ChatSession, Message, MessageStatus
from everything_app.chat.service import (
    mark_orphans,
    record_message_change,
    set_title_if_missing,
)
from everything_app.chat.tools import CallKey, ToolBox, ToolFailed, call_key
from everything_app.core import rls, sse
from everything_app.core.changes import Change, ChangeBus, record_change
from everything_app.core.db import database_unavailable, unit_of_work, utcnow
from everything_app.core.logging import get_logger
from everything_app.core.metrics import count_tokens
from everything_app.settings import Settings

log = get_logger(__name__)
# Seconds between writes of a growing answer (CHAT_FLUSH_SECONDS). Resume does not need them
# (it replays the answer from memory); they are for live views of `chat.messages`, for what
# is kept if the server dies mid-answer, and to show other instances the answer is alive
# (service.ORPHAN_AFTER is far longer).
FLUSH_INTERVAL = 2.0
# A finished answer waits this long, at most, for a database that is restarting (retrying
# with backoff up to FINISH_RETRY_MAX apart) before it is given up for lost.
FINISH_PATIENCE, FINISH_RETRY_FIRST, FINISH_RETRY_MAX = 30.0, 0.1, 2.0
MAX_STEPS = 5  # model calls per turn when tools are in play
TITLE_BACKLOG = 100  # model-made titles waiting their turn; past that a chat keeps its own


@dataclass(frozen=True)
class ChatLimits:
    """What one process takes on (see chat.admission and the README's chat section)."""

    max_generations: int = 24
    queue_size: int = 64
    queue_wait_seconds: float = 10.0
    model_titles: bool = False  # a second model call per new chat, after its answer
    flush_seconds: float = FLUSH_INTERVAL

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatLimits:
        return cls(
            settings.chat_max_generations,
            settings.chat_queue_size,
            settings.chat_queue_wait_seconds,
            settings.chat_model_titles,
            settings.chat_flush_seconds,
        )


@dataclass
class Generation:
    session_id: uuid.UUID
    user_id: uuid.UUID
    message_id: uuid.UUID
    chunks: list[bytes] = field(default_factory=list)  # SSE events, from the answer's start
    text: str = ""
    status: str = MessageStatus.STREAMING
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    _wake: asyncio.Future[None] | None = None  # made by a follower that waits, set by emit

    def emit(self, chunk: ui.Chunk | bytes) -> None:
        self.chunks.append(chunk if isinstance(chunk, bytes) else ui.sse(chunk))
        self._notify()

    def emit_text(self, part_id: str, delta: str) -> None:
        """The per-token path: the frame from a byte template (ui.text_delta_sse)."""
        self.chunks.append(ui.text_delta_sse(part_id, delta))
        self.text += delta
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            if not self._wake.done():
                self._wake.set_result(None)
            self._wake = None

    def close(self) -> None:
        self.done.set()
        self._notify()

    async def follow(self) -> AsyncIterator[bytes]:
        """Every chunk from the start of the answer, then new ones as they come. What has
        piled up since the last send goes out as one write: each send crosses every ASGI
        middleware, so under load one batch costs far less than one send per token."""
        sent = 0
        while True:
            if sent < len(self.chunks):
                batch = self.chunks[sent:]
                sent += len(batch)
                yield batch[0] if len(batch) == 1 else b"".join(batch)
                continue
            if self.done.is_set():
                return
            if self._wake is None:
                self._wake = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._wake)  # shared by every follower: one cancel is theirs


@dataclass(frozen=True)
class Turn:
    spec: ModelSpec
    history: Sequence[ChatMessage]
    max_tokens: int
    needs_title: bool  # a new (or untitled) chat: a model may name it after this answer
    title: str  # the title it got from its first message
    first_user_text: str
    # The user message this turn answers: tool writes happen once per it (chat.tools.CallKey).
    question_id: uuid.UUID


class Generations:
    """The answers being generated in this process, by chat session."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        providers: Providers,
        bus: ChangeBus | None,
        limits: ChatLimits | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._providers = providers
        self._bus = bus
        self.limits = limits or ChatLimits()
        limits = self.limits
        self.admission = Admission(
            limits.max_generations, limits.queue_size, limits.queue_wait_seconds
        )
        self._title_turn = asyncio.Lock()  # model-made titles: one at a time
        self._titles_pending = 0
        self._active: dict[uuid.UUID, Generation] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # incl. titles still being written

    def get(self, session_id: uuid.UUID) -> Generation | None:
        return self._active.get(session_id)

    @property
    def active_count(self) -> int:
        return len(self._active)

    def count_for(self, user_id: uuid.UUID) -> int:
        return sum(1 for g in self._active.values() if g.user_id == user_id)

    def start(
        self,
        session: ChatSession,
        message: Message,
        turn: Turn,
        tools: ToolBox,
        slot: Slot | None = None,
    ) -> Generation:
        """Generate the answer; `slot` (from `admission`) is released when it is finished."""
        generation = Generation(session.id, session.user_id, message.id)
        self._active[session.id] = generation
        generation.task = self._track(self._run(generation, turn, tools, slot))
        return generation

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task that `wait_idle` (and so shutdown) waits for, even if whoever started it
        is cancelled meanwhile."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self, session_id: uuid.UUID) -> bool:
        generation = self._active.get(session_id)
        if generation is None or generation.task is None:
            return False
        generation.task.cancel()
        await generation.done.wait()
        return True

    async def wait_idle(self) -> None:
        """Until every generation, and the title work that follows it, has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def shutdown(self) -> None:
        for session_id in list(self._active):
            await self.stop(session_id)
        await self.wait_idle()

    async def _run(self, gen: Generation, turn: Turn, tools: ToolBox, slot: Slot | None) -> None:
        writer = _AnswerWriter(self._sessionmaker, self._bus, gen, self.limits.flush_seconds)
        input_tokens = output_tokens = 0
        parts: list[dict[str, Any]] = []
        try:
            gen.emit(ui.start(str(gen.message_id), {"sessionId": str(gen.session_id)}))
            messages = list(turn.history)
            reason = "stop"
            seen_calls: dict[str, int] = {}  # identical calls so far in this turn
            for step in range(MAX_STEPS):
                gen.emit(ui.start_step())
                step_result = await self._step(gen, turn, messages, tools, writer, step, seen_calls)
                input_tokens += step_result.input_tokens
                output_tokens += step_result.output_tokens
                reason = step_result.reason
                parts.extend(step_result.parts)
                gen.emit(ui.finish_step())
                if not step_result.tool_calls:
                    break
                messages.append(
                    ChatMessage(
                        role="assistant",
                        content=step_result.text,
                        tool_calls=step_result.tool_calls,
                    )
                )
                messages.extend(step_result.tool_messages)
            gen.emit(ui.finish(reason))
            gen.status = MessageStatus.COMPLETE
        except asyncio.CancelledError:
            gen.status = MessageStatus.CANCELED
            gen.emit(ui.abort())
        except ProviderError as exc:
            gen.status, gen.error = MessageStatus.ERROR, exc.message
            gen.emit(ui.error(exc.message))
        except Exception:
            log.exception("generation_failed", session_id=str(gen.session_id))
            gen.status, gen.error = MessageStatus.ERROR, "The answer failed unexpectedly."
            gen.emit(ui.error(gen.error))
        finally:
            gen.emit(sse.DONE)
            # Counted whether or not the answer is stored: the provider was paid either way.
            spec = turn.spec
            count_tokens("chat", spec.provider, spec.id, input_tokens, output_tokens)
            try:
                # Shielded and tracked: a second cancel (a stop, a shutdown) must neither cut
                # the final write short nor let shutdown close the database under it.
                await asyncio.shield(
                    self._track(writer.finish(parts, input_tokens, output_tokens, turn.spec.id))
                )
            except Exception:
                log.exception("generation_finish_failed", session_id=str(gen.session_id))
            finally:
                self._active.pop(gen.session_id, None)
                if slot is not None:
                    slot.release()
                gen.close()  # listeners are done; the title below is nobody's wait
            if self._wants_model_title(gen, turn):
                self._titles_pending += 1
                self._track(self._name_chat(gen, turn))

    def _wants_model_title(self, gen: Generation, turn: Turn) -> bool:
        return (
            self.limits.model_titles
            and turn.needs_title
            and turn.spec.provider != "offline"
            and gen.status == MessageStatus.COMPLETE
            and self._titles_pending < TITLE_BACKLOG
        )

    async def _step(
        self,
        gen: Generation,
        turn: Turn,
        messages: Sequence[ChatMessage],
        tools: ToolBox,
        writer: _AnswerWriter,
        step: int,
        seen_calls: dict[str, int],
    ) -> _StepResult:
        result = _StepResult()
        text_id: str | None = None
        stream = self._providers.stream(
            turn.spec, messages, tools=tools.specs, max_tokens=turn.max_tokens
        )
        async with contextlib.aclosing(stream):
            async for event in stream:
                if isinstance(event, TextDelta):
                    if text_id is None:
                        text_id = f"text-{step}"
                        gen.emit(ui.text_start(text_id))
                    gen.emit_text(text_id, event.text)
                    result.text += event.text
                    writer.maybe_flush()
                elif isinstance(event, ToolCallStarted):
                    if text_id is not None:
                        gen.emit(ui.text_end(text_id))
                        text_id = None
                    gen.emit(ui.tool_input_start(event.id, event.name))
                elif isinstance(event, ToolCallDelta):
                    gen.emit(ui.tool_input_delta(event.id, event.arguments_delta))
                elif isinstance(event, ToolCallFinished):
                    result.tool_calls.append(
                        ToolCall(id=event.id, name=event.name, arguments=event.arguments)
                    )
                elif isinstance(event, Usage):
                    result.input_tokens += event.input_tokens
                    result.output_tokens += event.output_tokens
                elif isinstance(event, Finish):
                    result.reason = event.reason
        if text_id is not None:
            gen.emit(ui.text_end(text_id))
        # The stored answer's parts, as the client assembled them: per step, its start, its
        # text, then its tool calls (which run after the model's stream ends).
        result.parts.append({"type": "step-start"})
        if result.text:
            result.parts.append({"type": "text", "text": result.text})
        for call in result.tool_calls:
            key = call_key(turn.question_id, call.name, call.arguments, seen_calls)
            await self._call_tool(gen, call, tools, result, key)
        return result

    async def _call_tool(
        self,
        gen: Generation,
        call: ToolCall,
        tools: ToolBox,
        result: _StepResult,
        key: CallKey,
    ) -> None:
        try:
            arguments: Any = json.loads(call.arguments or "{}")
        except ValueError:
            arguments = {}
        gen.emit(ui.tool_input_available(call.id, call.name, arguments))
        part: dict[str, Any] = {
            "type": f"tool-{call.name}",
            "toolCallId": call.id,
            "input": arguments,
        }
        try:
            output = await tools.call(call.name, call.arguments, gen.user_id, key)
        except ToolFailed as exc:
            # The model sees the error and may correct itself on the next step.
            gen.emit(ui.tool_output_error(call.id, exc.message))
            part |= {"state": "output-error", "errorText": exc.message}
            content = json.dumps({"error": exc.message})
        else:
            gen.emit(ui.tool_output_available(call.id, output))
            part |= {"state": "output-available", "output": output}
            content = json.dumps(output, default=str)
        result.parts.append(part)
        result.tool_messages.append(ChatMessage(role="tool", content=content, tool_call_id=call.id))

    async def _name_chat(self, gen: Generation, turn: Turn) -> None:
        try:
            await self._title(gen, turn)
        except Exception:
            log.exception("chat_title_failed", session_id=str(gen.session_id))

    async def _title(self, gen: Generation, turn: Turn) -> None:
        """A model-made title (CHAT_MODEL_TITLES), after the answer, at low priority: one at
        a time, and only while no answer waits for a slot. It replaces the title taken from
        the first message, never one the user gave meanwhile."""
        try:
            async with self._title_turn:
                await self.admission.quiet()
                title = await self._model_title(turn)
        finally:
            self._titles_pending -= 1
        if title is None:
            return
        async with unit_of_work(
            self._sessionmaker, write=True, user_id=gen.user_id, bus=self._bus
        ) as db:
            await set_title_if_missing(db, gen.session_id, storable(title), turn.title)
            record_change(db, Change("chat_sessions", "update", gen.session_id, gen.user_id))

    async def _model_title(self, turn: Turn) -> str | None:
        prompt = [
            ChatMessage(
                role="system",
                content="Reply with a title of at most six words for a chat that starts with "
                "the user's message. No quotes, no punctuation at the end.",
            ),
            ChatMessage(role="user", content=turn.first_user_text[:2000]),
        ]
        text = ""
        try:
            stream = self._providers.stream(turn.spec, prompt, max_tokens=24)
            async with contextlib.aclosing(stream):
                async for event in stream:
                    if isinstance(event, TextDelta):
                        text += event.text
        except ProviderError:
            return None
        return text.strip().strip('"').strip()[:200] or None


@dataclass
class _StepResult:
    text: str = ""
    reason: str = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_messages: list[ChatMessage] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)


class _AnswerWriter:
    """Writes the growing answer to its row, at most every `interval` seconds, in the
    background: the stream never waits for the database, and a write still running when the
    next is due makes that one skip. The final write waits for it, so it is the last."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: ChangeBus | None,
        gen: Generation,
        interval: float = FLUSH_INTERVAL,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._gen = gen
        self._interval = interval
        self._last_flush = time.monotonic()
        self._flushing: asyncio.Task[None] | None = None

    def maybe_flush(self) -> None:
        if self._flushing is not None or time.monotonic() - self._last_flush < self._interval:
            return
        self._last_flush = time.monotonic()
        self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            await self._write({"content": self._gen.text})
        except Exception as exc:
            # The answer goes on: it is whole in memory, and the final write stores it.
            if database_unavailable(exc):
                log.warning("answer_flush_deferred", error=repr(exc))
            else:
                log.exception("answer_flush_failed", session_id=str(self._gen.session_id))
        finally:
            self._flushing = None

    async def finish(
        self, parts: list[dict[str, Any]], input_tokens: int, output_tokens: int, model: str
    ) -> None:
        if self._flushing is not None:
            await asyncio.wait([self._flushing])  # its outcome is its own (logged)
        values = {
            "content": self._gen.text,
            "status": self._gen.status,
            "error": self._gen.error,
            "parts": parts,
            "input_tokens": input_tokens or None,
            "output_tokens": output_tokens or None,
            "model": model,
        }
        give_up_at = time.monotonic() + FINISH_PATIENCE
        delay = FINISH_RETRY_FIRST
        while True:
            try:
                await self._write(values)
                return
            except Exception as exc:
                if not database_unavailable(exc) or time.monotonic() + delay > give_up_at:
                    raise
                log.warning("answer_finish_deferred", error=repr(exc))
            await asyncio.sleep(delay)  # the database is restarting: the answer waits for it
            delay = min(delay * 2, FINISH_RETRY_MAX)

    async def _write(self, values: dict[str, Any]) -> None:
        values = {name: storable(value) for name, value in values.items()}
        self._last_flush = time.monotonic()
        # As the user: on PostgreSQL row-level security hides the row from anyone else.
        async with unit_of_work(
            self._sessionmaker, write=True, user_id=self._gen.user_id, bus=self._bus
        ) as db:
            await db.execute(
                update(Message)
                .where(Message.id == self._gen.message_id)
                .values(**values, updated_at=utcnow())
            )
            gen = self._gen
            record_message_change(db, gen.message_id, gen.user_id, gen.session_id)


def storable(value: Any) -> Any:
    """Model output as the database can store it: NUL characters (which PostgreSQL refuses in
    text and JSON) become U+FFFD, in strings, lists and dicts alike. Requests are refused with
    422 for them (core.validation); a model's answer cannot be, so it is repaired."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    return value


async def mark_orphaned_answers(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """At start-up: answers left `streaming` by a server that went away become `error`.

    Best effort: a database that is down must not stop the server from starting (/readyz
    says it is not ready); the next start marks them."""
    try:
        async with unit_of_work(sessionmaker, write=True) as db:
            await rls.act_as_system(db, tables=["messages"], reason="mark orphaned answers")
            count = await mark_orphans(db)
    except (OSError, SQLAlchemyError) as exc:
        log.warning("orphaned_answers_not_marked", error=type(exc).__name__)
        return
    if count:
        log.warning("orphaned_answers_marked", count=count)
