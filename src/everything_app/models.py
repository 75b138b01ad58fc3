"""Every feature's tables, imported so that `Base.metadata` is complete (Alembic, tests)."""

from everything_app.auth import ApiKey, PasswordReset, Session, User
from everything_app.chat import ChatSession, Message, ToolCallRecord
from everything_app.core.db import Base
from everything_app.core.jobs import Job
from everything_app.gateway import AiUsage
from everything_app.planner import CalendarEvent, Expense, Task
from everything_app.reservations import QueueEntry, Reservation, Service

metadata = Base.metadata

__all__ = [
    "AiUsage",
    "ApiKey",
    "CalendarEvent",
    "ChatSession",
    "Expense",
    "Job",
    "Message",
    "PasswordReset",
    "QueueEntry",
    "Reservation",
    "Service",
    "Session",
    "Task",
    "ToolCallRecord",
    "User",
    "metadata",
]
