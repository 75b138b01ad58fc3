"""Preparing a chat turn: the stored user message, the context the model sees, and the
assistant row that the answer will fill."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.ai import ChatMessage, ModelRegistry, ModelSpec, UnknownModel
from everything_app.chat import service
from everything_app.chat.generation import Turn
from everything_app.chat.models import ChatSession, Message, MessageStatus
from everything_app.core.db import utcnow
from everything_app.core.errors import BadRequest

SYSTEM_PROMPT = (
    "You are the assistant of Everything-App. Answer helpfully and concisely. "
    "When the user asks to add or find tasks, events or expenses, use the tools.\n"
    "Current time: {now}\nTime zone: {timezone}"
)
CHARS_PER_TOKEN = 4  # a rough estimate, erring towards trimming a little early


@dataclass(frozen=True)
class TurnRequest:
    session_id: uuid.UUID
    text: str | None  # None: regenerate the answer to the last user message
    model: str | None
    max_tokens: int | None
    timezone: str = "UTC"


def resolve_model(models: ModelRegistry, model_id: str | None) -> ModelSpec:
    if model_id is None:
        return models.default
    try:
        return models.get(model_id)
    except UnknownModel as exc:
        valid = ", ".join(exc.valid_ids)
        raise BadRequest(
            f"Unknown model {model_id!r}. Valid models: {valid}.",
            code="unknown_model",
            details=[{"valid_models": list(exc.valid_ids)}],
        ) from None


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 4


def trim_context(system: ChatMessage, history: list[ChatMessage], budget: int) -> list[ChatMessage]:
    """The newest messages that fit the model's context; the last one always goes in."""
    kept: list[ChatMessage] = []
    used = estimate_tokens(system.content)
    for message in reversed(history):
        cost = estimate_tokens(message.content)
        if kept and used + cost > budget:
            break
        if not kept and used + cost > budget:  # the newest alone is too long: cut its start
            keep_chars = max(0, (budget - used) * CHARS_PER_TOKEN)
            message = ChatMessage(role=message.role, content=message.content[-keep_chars:])
            cost = budget - used
        kept.append(message)
        used += cost
    return [system, *reversed(kept)]


async def prepare_turn(
    db: AsyncSession,
    user_id: uuid.UUID,
    request: TurnRequest,
    models: ModelRegistry,
    now: datetime | None = None,
    *,
    known: ChatSession | service.Lookup | None = service.Lookup.NEEDED,
) -> tuple[ChatSession, Message, Turn]:
    """`known`: the session as `service.find_session` found it in this unit of work."""
    spec = resolve_model(models, request.model)
    title = service.title_from(request.text) if request.text is not None else None
    session, created = await service.get_or_create_session(
        db, user_id, request.session_id, spec.id, title, known=known
    )
    untitled = created or session.title is None  # named from its first message, below or above
    if request.text is None:
        last = await service.last_message(db, session.id)
        if last is not None and last.role == "assistant":
            await service.delete_message(db, last)  # regenerate replaces the last answer
            last = await service.last_message(db, session.id)
        if last is None or last.role != "user":
            raise BadRequest("There is no question to answer again.", code="nothing_to_regenerate")
        question = last
    else:
        question = await service.add_message(
            db, session, role="user", content=request.text, touch=False
        )
    # A chat made just now holds the question alone: no need to read it back.
    stored = [question] if created else await service.conversation(db, session.id)
    history = [
        ChatMessage(role=m.role, content=m.content)  # type: ignore[arg-type]
        for m in stored
        if m.role in ("user", "assistant", "system") and (m.content or m.role == "user")
    ]
    max_tokens = min(request.max_tokens or spec.max_output_tokens, spec.max_output_tokens)
    local_now = (now or utcnow()).astimezone(ZoneInfo(request.timezone))
    system = ChatMessage(
        role="system",
        content=SYSTEM_PROMPT.format(
            now=local_now.isoformat(timespec="minutes"), timezone=request.timezone
        ),
    )
    context = trim_context(system, history, spec.context_window - max_tokens)
    first_user = next((m.content for m in stored if m.role == "user"), "")
    if session.title is None:  # a session from before titles were given at once
        session.title = service.title_from(first_user)
    assistant = await service.add_message(
        db,
        session,
        role="assistant",
        content="",
        model=spec.id,
        status=MessageStatus.STREAMING,
        touch=not created,
    )
    turn = Turn(
        spec=spec,
        history=context,
        max_tokens=max_tokens,
        needs_title=untitled,
        title=session.title or "",
        first_user_text=first_user,
        question_id=question.id,
    )
    return session, assistant, turn
