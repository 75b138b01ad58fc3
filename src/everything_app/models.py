"""Every feature's tables, imported so that `Base.metadata` is complete (Alembic, tests)."""

from everything_app.auth.models import Session, User
from everything_app.chat.models import ChatSession, Message
from everything_app.core.db import Base
from everything_app.keys.models import ApiKey

metadata = Base.metadata

__all__ = ["ApiKey", "ChatSession", "Message", "Session", "User", "metadata"]
