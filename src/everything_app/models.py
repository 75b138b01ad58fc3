"""Every feature's tables, imported so that `Base.metadata` is complete (Alembic, tests)."""

from everything_app.auth.models import Session, User
from everything_app.chat.models import ChatSession, Message, ToolCallRecord
from everything_app.core.db import Base
from everything_app.gateway.models import AiUsage
from everything_app.keys.models import ApiKey
from everything_app.planner.models import CalendarEvent, Expense, Task
from everything_app.reservations.models import QueueEntry, Reservation, Service

metadata = Base.metadata

__all__ = [
    "AiUsage",
    "ApiKey",
    "CalendarEvent",
    "ChatSession",
    "Expense",
    "Message",
    "QueueEntry",
    "Reservation",
    "Service",
    "Session",
    "Task",
    "ToolCallRecord",
    "User",
    "metadata",
]
