"""The verified-credential cache: a session check normally costs no statement at all, a
cached session still slides its expiry forward, and revocation ends it at once (on two
instances: tests/realtime/test_instances.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select

from everything_app.auth import CurrentAccount, CurrentUser, OptionalPrincipal, credentials
from everything_app.auth.models import Session
from everything_app.core.db import utcnow
from tests.conftest import AppWith, Running, privileged_db, sign_up


@pytest.fixture(params=[3600.0, 0.0], ids=["cached", "uncached"])
async def cached(request: pytest.FixtureRequest, app_with: AppWith) -> Running:
    return await app_with(auth_cache_seconds=request.param)


@pytest.fixture
def cached_app(cached: Running) -> FastAPI:
    return cached.app


@pytest.fixture
def client(cached: Running) -> httpx.AsyncClient:
    return cached.client()


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_verified_session_is_checked_without_a_statement(
    cached_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    assert (await client.get("/api/auth/get-session")).json()["session"] is not None
    with statements(cached_app) as checked:
        session = (await client.get("/api/auth/get-session")).json()
    with statements(cached_app) as listed:
        keys = await client.get("/api/keys")
    assert session["session"] is not None
    assert keys.status_code == 200
    credential_reads = [s for s in checked + listed if "FROM sessions" in s]
    if cached_app.state.settings.auth_cache_seconds:
        # get-session sent nothing; the list sent its own query and nothing for the cookie.
        assert checked == []
        assert credential_reads == []
    else:
        assert len(credential_reads) == 2


async def test_a_cached_session_still_slides_its_expiry_forward(
    cached_app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client)
    assert (await client.get("/api/auth/get-session")).status_code == 200  # now cached
    settings = cached_app.state.settings
    later = utcnow() + timedelta(days=2)  # past update_age (1 day), before expiry (7)
    monkeypatch.setattr(credentials, "utcnow", lambda: later)
    monkeypatch.setattr("everything_app.auth.service.utcnow", lambda: later)
    response = await client.get("/api/auth/get-session")
    assert "set-cookie" in response.headers  # the cookie's Max-Age is renewed too
    async with privileged_db(cached_app) as db:
        row = (await db.execute(select(Session))).scalar_one()
    assert row.expires_at >= later + timedelta(seconds=settings.session_ttl_seconds - 1)
    # Written once: the next check within update_age writes nothing.
    with statements(cached_app) as sent:
        again = await client.get("/api/auth/get-session")
    assert "set-cookie" not in again.headers
    if settings.auth_cache_seconds:
        assert sent == []


async def test_concurrent_checks_of_an_unverified_session_read_it_once(
    cached_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await sign_up(client)  # signing up verifies nothing: the first check reads the session
    with statements(cached_app) as sent:
        answers = await asyncio.gather(*(client.get("/api/auth/get-session") for _ in range(8)))
    assert all(a.json()["session"] is not None for a in answers)
    reads = [s for s in sent if "FROM sessions" in s]
    assert len(reads) == (1 if cached_app.state.settings.auth_cache_seconds else 8)


async def test_a_cached_check_opens_no_unit_of_work(
    cached_app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even a session object (building one was a tenth of a cached check's time)."""
    await sign_up(client)
    assert (await client.get("/api/auth/get-session")).json()["session"] is not None
    opened: list[object] = []
    sessionmaker = cached_app.state.sessionmaker

    def counting() -> Any:
        opened.append(object())
        return sessionmaker()

    monkeypatch.setattr(cached_app.state, "sessionmaker", counting)
    assert (await client.get("/api/auth/get-session")).json()["session"] is not None
    expected = 0 if cached_app.state.settings.auth_cache_seconds else 1
    assert len(opened) == expected


async def test_a_request_resolves_its_caller_once(
    cached_app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route asking for its caller in several forms (the user, the account, the principal,
    optional or not) verifies the credential once, cached or not."""

    @cached_app.get("/test/caller-forms")
    async def forms(
        user: CurrentUser, account: CurrentAccount, principal: OptionalPrincipal
    ) -> dict[str, bool]:
        return {"same": principal is not None and user.id == account.id == principal.account.id}

    await sign_up(client)
    calls: list[str] = []

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("verify")
        return await credentials.verify_credential(*args, **kwargs)

    monkeypatch.setattr("everything_app.auth.deps.verify_credential", counting)
    assert (await client.get("/test/caller-forms")).json() == {"same": True}
    assert calls == ["verify"]
