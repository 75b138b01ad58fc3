"""The sweeps delete exactly what is past its time and nothing else, in bounded batches,
across users, and announce what they delete (live queries, credential caches)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from everything_app.auth.models import ApiKey, Session, User
from everything_app.chat.models import ChatSession, Message, MessageStatus
from everything_app.core.changes import Change
from everything_app.core.db import utcnow
from everything_app.gateway.models import AiUsage
from tests.conftest import AppWith, privileged_db, sign_up
from tests.housekeeping.support import run_kind


def heard(app: FastAPI) -> list[Change]:
    changes: list[Change] = []
    app.state.changes.listen(changes.extend)
    return changes


async def _new_user(app: FastAPI) -> uuid.UUID:
    async with privileged_db(app) as db:
        user = User(email=f"{uuid.uuid4().hex}@example.com", name="u", password_hash="x")
        db.add(user)
        await db.commit()
        return user.id


async def _add_sessions(
    app: FastAPI, user_id: uuid.UUID, ends: Sequence[datetime]
) -> list[uuid.UUID]:
    async with privileged_db(app) as db:
        rows = [
            Session(user_id=user_id, token_hash=uuid.uuid4().hex, expires_at=end) for end in ends
        ]
        db.add_all(rows)
        await db.commit()
        return [row.id for row in rows]


async def _session_ids(app: FastAPI) -> set[uuid.UUID]:
    async with privileged_db(app) as db:
        return set((await db.execute(select(Session.id))).scalars())


async def test_expired_sessions_past_the_grace_go_in_batches_and_are_announced(
    app_with: AppWith,
) -> None:
    running = await app_with(housekeeping_session_grace_days=1, housekeeping_batch_size=2)
    app = running.app
    client = running.client()
    await sign_up(client)  # a live session, in use
    now = utcnow()
    users = [await _new_user(app) for _ in range(2)]
    old = [now - timedelta(days=1, minutes=5), now - timedelta(days=30), now - timedelta(days=2)]
    gone = await _add_sessions(app, users[0], old) + await _add_sessions(app, users[1], old[:2])
    within = await _add_sessions(
        app,
        users[1],
        [now - timedelta(hours=23), now - timedelta(minutes=1), now + timedelta(days=3)],
    )
    before = await _session_ids(app)
    changes = heard(app)

    result, context = await run_kind(app, "housekeeping.sessions")

    assert result == {"sessions_deleted": 5}
    assert await _session_ids(app) == before - set(gone)
    assert set(within) <= await _session_ids(app)
    ended = {c.row_id for c in changes if c.table == "sessions" and c.op == "delete"}
    assert ended == set(gone)
    assert context.progress_seen[-1] == (100, "5 sessions_deleted")
    assert len(context.progress_seen) >= 3  # 5 rows in batches of 2: three statements
    # The signed-in session is untouched and still works.
    assert (await client.get("/api/auth/get-session")).json()["user"] is not None
    # Nothing left: a second run deletes nothing.
    assert (await run_kind(app, "housekeeping.sessions"))[0] == {"sessions_deleted": 0}


async def _api_keys(client: httpx.AsyncClient, names: Sequence[str]) -> dict[str, uuid.UUID]:
    ids = {}
    for name in names:
        created = await client.post("/api/keys", json={"name": name})
        assert created.status_code == 201
        ids[name] = uuid.UUID(created.json()["id"])
    return ids


async def test_ended_api_keys_past_the_grace_go_and_keys_list_hears_it(
    app_with: AppWith,
) -> None:
    running = await app_with(housekeeping_key_grace_days=30, housekeeping_batch_size=1)
    app = running.app
    client = running.client()
    await sign_up(client)
    names = ["revoked-long-ago", "revoked-lately", "expired-long-ago", "expired-lately",
             "expires-later", "active"]  # fmt: skip
    keys = await _api_keys(client, names)
    other = running.client()
    await sign_up(other)
    keys |= {f"other-{k}": v for k, v in (await _api_keys(other, ["revoked-long-ago"])).items()}
    for key_id in (keys["revoked-lately"],):
        assert (await client.delete(f"/api/keys/{key_id}")).status_code == 200
    now = utcnow()
    rigged: dict[str, dict[str, Any]] = {
        "revoked-long-ago": {"revoked": True, "revoked_at": now - timedelta(days=31)},
        "other-revoked-long-ago": {"revoked": True, "revoked_at": now - timedelta(days=40)},
        "expired-long-ago": {"expires_at": now - timedelta(days=30, minutes=1)},
        "expired-lately": {"expires_at": now - timedelta(days=29)},
        "expires-later": {"expires_at": now + timedelta(days=1)},
    }
    async with privileged_db(app) as db:
        for name, values in rigged.items():
            await db.execute(update(ApiKey).where(ApiKey.id == keys[name]).values(**values))
        # Usage made with a key outlives it (its key becomes unknown, not its tokens).
        user_id = (
            await db.execute(select(ApiKey.user_id).where(ApiKey.id == keys["expired-long-ago"]))
        ).scalar_one()
        db.add(AiUsage(user_id=user_id, api_key_id=keys["expired-long-ago"], model="m"))
        await db.commit()
    changes = heard(app)

    result, _ = await run_kind(app, "housekeeping.api_keys")

    gone = {keys["revoked-long-ago"], keys["other-revoked-long-ago"], keys["expired-long-ago"]}
    assert result == {"api_keys_deleted": 3}
    async with privileged_db(app) as db:
        left = set((await db.execute(select(ApiKey.id))).scalars())
        usage = (await db.execute(select(AiUsage.api_key_id))).scalars().all()
    assert left == set(keys.values()) - gone
    assert usage == [None]
    assert {c.row_id for c in changes if c.table == "api_keys" and c.op == "delete"} == gone
    listed = {k["name"] for k in (await client.get("/api/keys")).json()["data"]}
    assert listed == {"revoked-lately", "expired-lately", "expires-later", "active"}


async def test_revoking_twice_keeps_the_first_revocation_time(app_with: AppWith) -> None:
    running = await app_with()
    client = running.client()
    await sign_up(client)
    key_id = (await _api_keys(client, ["k"]))["k"]
    times = []
    for _ in range(2):
        assert (await client.delete(f"/api/keys/{key_id}")).status_code == 200
        async with privileged_db(running.app) as db:
            times.append(
                (
                    await db.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id))
                ).scalar_one()
            )
    assert times[0] is not None
    assert times[0] == times[1]


async def test_abandoned_answers_end_and_live_ones_stay(app_with: AppWith) -> None:
    running = await app_with(housekeeping_batch_size=1)
    app = running.app
    user_id = await _new_user(app)
    now = utcnow()
    async with privileged_db(app) as db:
        chat = ChatSession(user_id=user_id, model="offline")
        db.add(chat)
        await db.flush()

        def answer(status: str, written: datetime) -> Message:
            message = Message(session_id=chat.id, user_id=user_id, role="assistant",
                              status=status, created_at=written, updated_at=written)  # fmt: skip
            db.add(message)
            return message

        abandoned = [answer(MessageStatus.STREAMING, now - timedelta(hours=h)) for h in (1, 5)]
        alive = answer(MessageStatus.STREAMING, now - timedelta(seconds=30))
        done = answer(MessageStatus.COMPLETE, now - timedelta(days=3))
        await db.commit()
        ids = {m.id: m for m in (*abandoned, alive, done)}
    changes = heard(app)

    result, _ = await run_kind(app, "housekeeping.answers")

    assert result == {"answers_ended": 2}
    async with privileged_db(app) as db:
        rows = {m.id: m for m in (await db.execute(select(Message))).scalars()}
    assert set(rows) == set(ids)  # nothing deleted
    for message in abandoned:
        assert rows[message.id].status == MessageStatus.ERROR
        assert rows[message.id].error
    assert rows[alive.id].status == MessageStatus.STREAMING
    assert rows[done.id].status == MessageStatus.COMPLETE
    assert {c.row_id for c in changes if c.table == "messages"} == {m.id for m in abandoned}


offsets = st.lists(st.integers(min_value=-5 * 86400, max_value=5 * 86400), max_size=12)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ends=offsets, grace_days=st.integers(min_value=0, max_value=3), batch=st.integers(1, 4))
async def test_the_session_sweep_deletes_exactly_the_sessions_past_the_cutoff(
    app: FastAPI, ends: list[int], grace_days: int, batch: int
) -> None:
    from everything_app.auth import delete_expired_sessions
    from everything_app.core.db import unit_of_work

    async with privileged_db(app) as db:
        await db.execute(delete(Session))
        await db.commit()
    user_id = await _new_user(app)
    now = utcnow()
    # Whole seconds away from the cutoff: no row sits on it as the clock moves on.
    ids = await _add_sessions(
        app, user_id, [now + timedelta(seconds=s, milliseconds=500) for s in ends]
    )
    cutoff = now - timedelta(days=grace_days)
    expected_left = {
        i
        for i, s in zip(ids, ends, strict=True)
        if now + timedelta(seconds=s, milliseconds=500) >= cutoff
    }

    deleted = 0
    while True:
        async with unit_of_work(app.state.sessionmaker, write=True, admin=True) as db:
            done = await delete_expired_sessions(db, expired_before=cutoff, limit=batch)
        assert done <= batch
        deleted += done
        if done < batch:
            break
    assert await _session_ids(app) == expected_left
    assert deleted == len(ids) - len(expected_left)
