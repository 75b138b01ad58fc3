"""Every feature's tables, imported so that `Base.metadata` is complete (Alembic, tests)."""

from everything_app.auth import (
    Account,
    AccountExport,
    AdminAction,
    ApiKey,
    OAuthState,
    OidcIdentity,
    PasswordReset,
    Session,
    User,
)
from everything_app.chat import ChatSession, Message, ToolCallRecord
from everything_app.core.db import Base
from everything_app.core.jobs import Job
from everything_app.gateway import AiUsage
from everything_app.housekeeping import BackupStatus
from everything_app.notifications import Notification
from everything_app.planner import CalendarEvent, Expense, PlannerImport, Task
from everything_app.reservations import QueueEntry, Reservation, Service

metadata = Base.metadata

__all__ = [
    "Account",
    "AccountExport",
    "AdminAction",
    "AiUsage",
    "ApiKey",
    "BackupStatus",
    "CalendarEvent",
    "ChatSession",
    "Expense",
    "Job",
    "Message",
    "Notification",
    "OAuthState",
    "OidcIdentity",
    "PasswordReset",
    "PlannerImport",
    "QueueEntry",
    "Reservation",
    "Service",
    "Session",
    "Task",
    "ToolCallRecord",
    "User",
    "metadata",
]
