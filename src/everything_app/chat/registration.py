"""The chat feature: `/api/chat` and its live queries. What it receives from the others:
the tools they offer in chat (`ToolBoxes`). It adds its conversations to the account's export."""

from __future__ import annotations

from everything_app.auth import AccountExportSections, table_section
from everything_app.chat.live import register_queries
from everything_app.chat.models import ChatSession, Message, ToolCallRecord
from everything_app.chat.routes import router
from everything_app.core.features import Feature, Registry
from everything_app.realtime import QueryRegistry


def register(registry: Registry) -> None:
    register_queries(registry[QueryRegistry])
    sections = registry[AccountExportSections]
    sections.add(
        table_section(
            "chats",
            ChatSession,
            order=ChatSession.updated_at,
            description="Your conversations (their messages are in messages.json).",
        )
    )
    sections.add(
        table_section("messages", Message, description="Every message of your conversations.")
    )
    sections.add(
        table_section(
            "chat_tool_calls",
            ToolCallRecord,
            description="What the assistant's tools wrote for you, per turn.",
        )
    )


feature = Feature("chat", routers=[router], register=register)
