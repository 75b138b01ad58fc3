"""`/api/keys`: a user's API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from everything_app.auth import ApiKey, CurrentUser, require_user
from everything_app.core.db import SessionDep
from everything_app.core.deps import LimiterDep, SettingsDep
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from everything_app.core.params import StrictQuery
from everything_app.keys import service
from everything_app.keys.schemas import KeyCreate, KeyCreated, KeyOut

router = APIRouter(
    prefix="/api/keys", tags=["keys"], dependencies=[Depends(require_user), StrictQuery]
)


def _out(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key, from_attributes=True)


@router.get("", response_model=Page[KeyOut])
async def list_keys(
    user: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[KeyOut]:
    """Your keys, newest first: name, prefix, dates and status, never the secret."""
    keys, next_cursor = await service.list_keys(db, user.id, cursor=cursor, limit=limit)
    return Page[KeyOut](data=[_out(k) for k in keys], next_cursor=next_cursor)


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(
    body: KeyCreate, user: CurrentUser, db: SessionDep, settings: SettingsDep, limiter: LimiterDep
) -> KeyCreated:
    """Create a key. The response holds the full key; it is shown this once."""
    await limiter.hit(settings.rate_limit_key_create_user, "key-create", str(user.id))
    new = await service.create_key(
        db,
        user.id,
        name=body.name,
        expires_in_days=body.expires_in_days,
        prefix=settings.api_key_prefix,
    )
    return KeyCreated(**_out(new.key).model_dump(), key=new.secret)


@router.get("/{key_id}", response_model=KeyOut)
async def get_key(key_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> KeyOut:
    return _out(await service.get_key(db, user.id, key_id))


@router.delete("/{key_id}", response_model=KeyOut)
async def revoke_key(key_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> KeyOut:
    """Revoke a key: it stops working at once and stays listed as revoked."""
    return _out(await service.revoke_key(db, user.id, key_id))
