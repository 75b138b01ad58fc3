"""The keys' live query: `GET /api/keys`, live."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.pagination import Page
from everything_app.keys import service
from everything_app.keys.schemas import KeyOut
from everything_app.realtime import PageArgs, QueryRegistry, Viewer


class KeysArgs(PageArgs):
    revoked: bool | None = None


async def keys_list(db: AsyncSession, viewer: Viewer, args: KeysArgs) -> Page[KeyOut]:
    """`GET /api/keys`, live: the caller's API keys, newest first."""
    keys, cursor = await service.list_keys(
        db, viewer.user_id, cursor=args.cursor, limit=args.limit, revoked=args.revoked
    )
    return Page[KeyOut](data=[KeyOut.model_validate(k) for k in keys], next_cursor=cursor)


def register_queries(queries: QueryRegistry) -> None:
    queries.register("keys.list", keys_list, args=KeysArgs, tables={"api_keys"})
