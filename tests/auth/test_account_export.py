"""`account.export`: a user's archive holds exactly their rows, in every section, and no
secret; its link is signed, expires, and serves nobody else's archive."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from everything_app.auth import (
    Account,
    AccountExport,
    AccountExportSections,
    ApiKey,
    OidcIdentity,
    Session,
    User,
)
from everything_app.auth.account_export import (
    EXPORT_KIND,
    PRUNE_KIND,
    ExportArgs,
    PruneArgs,
    link_is_genuine,
    link_signature,
)
from everything_app.auth.export_sections import ExportSection, Row, table_section
from everything_app.chat import ChatSession, Message, ToolCallRecord
from everything_app.core.db import utcnow
from everything_app.core.jobs import Job, JobFailed, JobKinds
from everything_app.core.security import new_token, token_hash
from everything_app.gateway import AiUsage
from everything_app.notifications import Notification
from everything_app.planner import CalendarEvent, Expense, Task
from everything_app.reservations import QueueEntry, Reservation, Service
from tests.conftest import BASE_URL, ClientFactory, privileged_db, sign_up
from tests.job_context import RecordingJobContext
from tests.jobs.conftest import (
    FAST,
    JobsApps,
    _drop_engine_state,
    engine_settings,
    job_in,
)

# Every section the app exports, and the table it comes from: a section added without a
# line here fails `test_every_section_holds_exactly_the_users_rows`.
SECTION_TABLES: dict[str, type[DeclarativeBase]] = {
    "profile": User,
    "sessions": Session,
    "api_keys": ApiKey,
    "chats": ChatSession,
    "messages": Message,
    "chat_tool_calls": ToolCallRecord,
    "events": CalendarEvent,
    "tasks": Task,
    "expenses": Expense,
    "reservations": Reservation,
    "queue_entries": QueueEntry,
    "ai_usage": AiUsage,
    "linked_accounts": Account,
    "identity_provider_subjects": OidcIdentity,
    "notifications": Notification,
    "jobs": Job,
}


@dataclass
class Person:
    id: uuid.UUID
    client: httpx.AsyncClient
    key_hash: str


async def _seed(db: AsyncSession, user_id: uuid.UUID, service: Service, n: int) -> str:
    """Rows of `user_id` in every section (`n` messages); the API key's hash."""
    now = utcnow()
    key_hash = token_hash(new_token())
    key = ApiKey(user_id=user_id, name="laptop", key_hash=key_hash, prefix="ea_abc")
    chat = ChatSession(user_id=user_id, title="Plans", model="offline")
    db.add_all([key, chat])
    await db.flush()
    messages = [
        Message(
            session_id=chat.id,
            user_id=user_id,
            role="user" if i % 2 == 0 else "assistant",
            content=f"message {i} of {user_id}",
            created_at=now - timedelta(seconds=n - i),
        )
        for i in range(n)
    ]
    db.add_all(messages)
    await db.flush()
    reservation = Reservation(user_id=user_id, service_id=service.id, time_slot=now)
    db.add_all(
        [
            ToolCallRecord(
                user_id=user_id,
                message_id=messages[0].id,
                call_key="create_task:1",
                name="create_task",
                output={"ok": True},
            ),
            CalendarEvent(
                user_id=user_id,
                title="Dentist",
                start_time=now,
                end_time=now + timedelta(hours=1),
            ),
            Task(user_id=user_id, title="Buy milk"),
            Expense(user_id=user_id, amount=Decimal("12.50"), category="food", incurred_at=now),
            reservation,
            AiUsage(user_id=user_id, api_key_id=key.id, model="offline", input_tokens=3),
            Account(user_id=user_id, provider_id="github", account_id=f"gh-{user_id}"),
            OidcIdentity(
                user_id=user_id, issuer="https://issuer.example", subject=f"sub-{user_id}"
            ),
            Notification(user_id=user_id, kind="reminder", title="Soon", body="In an hour"),
            Job(user_id=user_id, kind="planner.import", status="succeeded", result={"rows": 1}),
        ]
    )
    await db.flush()
    position = len((await db.execute(select(QueueEntry.id))).all()) + 1
    db.add(
        QueueEntry(
            service_id=service.id,
            reservation_id=reservation.id,
            user_id=user_id,
            position=position,
        )
    )
    await db.flush()
    return key_hash


@pytest.fixture
async def people(app: FastAPI, new_client: ClientFactory) -> list[Person]:
    """Two users, A (with 2,500 messages: three pages) and B, with rows in every section."""
    found: list[Person] = []
    for _ in range(2):
        client = new_client()
        signed = await sign_up(client)
        found.append(Person(uuid.UUID(signed["user"]["id"]), client, ""))
    async with privileged_db(app) as db:
        service = Service(name="Haircut", duration_minutes=30, capacity=5)
        db.add(service)
        await db.flush()
        for person, n in zip(found, (2500, 3), strict=True):
            person.key_hash = await _seed(db, person.id, service, n)
        await db.commit()
    return found


def _context(app: FastAPI, user_id: uuid.UUID | None, **kw: Any) -> RecordingJobContext:
    return RecordingJobContext(app, user_id, **kw)


async def _export(ctx: RecordingJobContext) -> dict[str, Any]:
    kind = ctx.app.state.registry[JobKinds].get(EXPORT_KIND)
    assert kind is not None
    assert kind.action
    result: dict[str, Any] = await kind.run(ctx, ExportArgs())
    return result


def _path(url: str) -> str:
    assert url.startswith(BASE_URL + "/api/account/exports/")
    return url[len(BASE_URL) :]


def _read(content: bytes) -> dict[str, Any]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    return {name: json.loads(archive.read(name)) for name in archive.namelist()}


async def _ids(app: FastAPI, model: type[DeclarativeBase], owner: uuid.UUID) -> set[str]:
    column = model.id if model is User else model.user_id  # type: ignore[attr-defined]
    async with privileged_db(app) as db:
        rows = await db.execute(select(model.id).where(column == owner))  # type: ignore[attr-defined]
        return {str(i) for i in rows.scalars()}


async def test_every_section_holds_exactly_the_users_rows(
    app: FastAPI, people: list[Person], new_client: ClientFactory
) -> None:
    a, b = people
    ctx = _context(app, a.id)
    result = await _export(ctx)

    # Anyone holding the link downloads it: it works from an email.
    response = await new_client().get(_path(result["url"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    assert "no-store" in response.headers["cache-control"]
    assert result["size"] == len(response.content)
    files = _read(response.content)

    manifest = files.pop("manifest.json")
    assert manifest["user_id"] == str(a.id)
    assert manifest["format"] == "everything-app.account-export"
    assert set(manifest["sections"]) == set(SECTION_TABLES)
    assert set(files) == {f"{name}.json" for name in SECTION_TABLES}
    assert result["counts"] == {n: s["count"] for n, s in manifest["sections"].items()}
    for name, model in SECTION_TABLES.items():
        data = files[f"{name}.json"]
        rows = [data] if name == "profile" else data
        assert manifest["sections"][name]["count"] == len(rows)
        exported = {row["id"] for row in rows}
        assert exported == await _ids(app, model, a.id), name
        assert exported, f"{name}: the test seeds a row in every section"
        assert not exported & await _ids(app, model, b.id), name
    assert len(files["messages.json"]) == 2500  # three keyset pages, none lost or repeated
    assert files["expenses.json"][0]["amount"] == "12.50"
    assert files["profile.json"]["email"].startswith("user-")

    # No secret, under any name.
    async with privileged_db(app) as db:
        password_hash = (await db.get(User, a.id)).password_hash  # type: ignore[union-attr]
        session_hashes = (
            await db.execute(select(Session.token_hash).where(Session.user_id == a.id))
        ).scalars()
        secrets = [password_hash, a.key_hash, *session_hashes]
    text = b"".join(zipfile.ZipFile(io.BytesIO(response.content)).read(n) for n in files)
    for secret in secrets:
        assert secret.encode() not in text
    for column in ("password_hash", "token_hash", "key_hash"):
        assert column.encode() not in text

    # Progress: one step per section, in order, then storing and ready.
    percents = [p for p, _ in ctx.progress_seen]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert len(percents) == len(SECTION_TABLES) + 2


async def test_row_level_security_holds_a_careless_section_to_the_user(
    app: FastAPI, people: list[Person], database_url: str
) -> None:
    """On PostgreSQL a section whose query forgot the owner still reads only the user's rows
    (the job acts as the user); on SQLite the section's own WHERE is all there is."""
    if not database_url.startswith("postgres"):
        pytest.skip("row-level security is PostgreSQL's")
    a, _b = people

    async def every_message(db: AsyncSession, _user: uuid.UUID, size: int) -> Any:
        rows = await db.execute(select(Message.id, Message.user_id))
        yield [dict(r) for r in rows.mappings()]

    sections = app.state.registry[AccountExportSections]
    sections.add(ExportSection("careless", every_message))
    result = await _export(_context(app, a.id))
    async with privileged_db(app) as db:
        found = await db.execute(
            select(AccountExport.content).where(AccountExport.id == uuid.UUID(result["export_id"]))
        )
        content = found.scalar_one()
    rows: list[Row] = _read(content)["careless.json"]
    assert {r["user_id"] for r in rows} == {str(a.id)}
    assert len(rows) == 2500


async def test_signed_link_expiry_tampering_and_other_users(
    app: FastAPI, people: list[Person], new_client: ClientFactory
) -> None:
    a, b = people
    result = await _export(_context(app, a.id))
    export_id = result["export_id"]
    path = _path(result["url"])
    query = parse_qs(urlsplit(result["url"]).query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    secret = app.state.settings.secret
    anonymous = new_client()
    plain = f"/api/account/exports/{export_id}"

    def link(e: int, s: str, target: str = export_id) -> str:
        return f"/api/account/exports/{target}?expires={e}&signature={s}"

    # The owner, signed in, needs no link; nobody else gets it without one.
    assert (await a.client.get(plain)).status_code == 200
    other = await b.client.get(plain)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "export_not_found"
    assert (await anonymous.get(plain)).status_code == 401

    # Tampered: a later expiry, another signature, another export, half a link.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for tampered in (
        link(expires + 3600, signature),
        link(expires, flipped),
        link(expires, signature, str(uuid.uuid4())),
        f"{plain}?expires={expires}",
        f"{plain}?signature={signature}",
        link(expires, link_signature("another-secret-" + "y" * 40, uuid.UUID(export_id), expires)),
    ):
        response = await anonymous.get(tampered)
        assert response.status_code == 404, tampered
        assert response.json()["error"]["code"] == "export_not_found"
    # B signed in with A's export id and a forged link gets nothing either.
    assert (await b.client.get(link(expires, flipped))).status_code == 404

    # A genuine link whose time has passed.
    past = int(utcnow().timestamp()) - 1
    gone = await anonymous.get(link(past, link_signature(secret, uuid.UUID(export_id), past)))
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "export_expired"

    # The archive itself expired (the link still in date): 410, for the owner too.
    async with privileged_db(app) as db:
        await db.execute(
            update(AccountExport)
            .where(AccountExport.id == uuid.UUID(export_id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    assert (await anonymous.get(path)).status_code == 410
    assert (await a.client.get(plain)).status_code == 410

    # The daily prune deletes it (and only expired archives): then it is a 404.
    kept = await _export(_context(app, b.id))
    prune = app.state.registry[JobKinds].get(PRUNE_KIND)
    assert prune is not None
    assert not prune.action
    assert await prune.run(_context(app, None), PruneArgs()) == {"deleted": 1}
    assert (await anonymous.get(path)).status_code == 404
    assert (await b.client.get(_path(kept["url"]))).status_code == 200
    schedules = {s.kind for s in app.state.registry[JobKinds].schedules()}
    assert PRUNE_KIND in schedules


async def test_a_job_run_again_answers_with_its_archive(app: FastAPI, people: list[Person]) -> None:
    """At-least-once delivery: the same job delivered twice stores one archive."""
    a, _ = people
    job_id = uuid.uuid4()
    first = await _export(_context(app, a.id, job_id=job_id))
    again = await _export(_context(app, a.id, job_id=job_id, attempt=2))
    assert again == first
    async with privileged_db(app) as db:
        stored = await db.execute(select(AccountExport.id).where(AccountExport.job_id == job_id))
        assert len(stored.all()) == 1


async def test_limits_and_misuse(app_with: Any) -> None:
    running = await app_with(export_max_bytes=1024)
    client = running.client()
    signed = await sign_up(client)
    user_id = uuid.UUID(signed["user"]["id"])
    async with privileged_db(running.app) as db:
        db.add_all([Task(user_id=user_id, title=f"task {i} " + "x" * 150) for i in range(200)])
        await db.commit()
    with pytest.raises(JobFailed, match="EXPORT_MAX_BYTES"):
        await _export(_context(running.app, user_id))
    with pytest.raises(JobFailed):
        await _export(_context(running.app, None))
    async with privileged_db(running.app) as db:
        assert (await db.execute(select(AccountExport.id))).all() == []


def test_a_section_that_would_export_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="password_hash"):
        table_section("users", User, owner=User.id)
    with pytest.raises(ValueError, match="key_hash"):
        table_section("keys", ApiKey)
    sections = AccountExportSections()
    sections.add(table_section("tasks", Task))
    with pytest.raises(ValueError, match="twice"):
        sections.add(table_section("tasks", Task))
    with pytest.raises(ValueError, match="lower_snake_case"):
        ExportSection("Bad Name", table_section("tasks", Task).pages)


@given(
    expires=st.integers(min_value=0, max_value=2**40),
    signature=st.text(max_size=128),
    other=st.integers(min_value=0, max_value=2**40),
)
def test_only_the_genuine_signature_opens_a_link(expires: int, signature: str, other: int) -> None:
    secret = "s" * 40
    export_id = uuid.UUID(int=expires)
    genuine = link_signature(secret, export_id, expires)
    assert link_is_genuine(secret, export_id, expires, genuine)
    assert link_is_genuine(secret, export_id, expires, signature) == (signature == genuine)
    if other != expires:
        assert not link_is_genuine(secret, export_id, other, genuine)
        assert not link_is_genuine(secret, uuid.UUID(int=other), expires, genuine)


async def test_a_link_with_any_text_is_a_clear_answer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    export_id = uuid.uuid4()
    for signature in ("é", "\U0001f600", "%00", "a" * 128, ""):
        response = await client.get(
            f"/api/account/exports/{export_id}", params={"expires": 5, "signature": signature}
        )
        assert response.status_code == 404, signature
    too_long = await client.get(
        f"/api/account/exports/{export_id}", params={"expires": 5, "signature": "a" * 129}
    )
    assert too_long.status_code == 422
    huge = await client.get(f"/api/account/exports/{export_id}", params={"expires": 2**41})
    assert huge.status_code == 422


async def test_an_account_deleted_while_exporting_fails_the_job(
    app: FastAPI, people: list[Person]
) -> None:
    """The archive cannot be stored for an account that is gone: the job fails at once,
    saying so, instead of retrying."""
    a, _ = people
    ctx = _context(app, a.id)
    real_progress = ctx.progress

    async def progress(percent: int, message: str = "") -> None:
        await real_progress(percent, message)
        if percent == 95:  # built, not yet stored: the account is deleted now
            async with privileged_db(app) as db:
                await db.execute(delete(User).where(User.id == a.id))
                await db.commit()

    ctx.progress = progress  # type: ignore[method-assign]
    with pytest.raises(JobFailed, match="no longer exists"):
        await _export(ctx)


async def test_end_to_end_through_the_server_action(app_with: Any) -> None:
    """POST /api/actions/account.export → 202 with the job → the job succeeds, with the
    link in its result → the link downloads the user's archive; another user's job is a
    404, and their session opens nothing of it."""
    running = await app_with(**FAST)
    owner, other = running.client(), running.client()
    owner_id = (await sign_up(owner))["user"]["id"]
    await sign_up(other)
    created = await owner.post("/api/tasks", json={"title": "Export me"})
    assert created.status_code == 201, created.text

    actions = await owner.get("/api/actions")
    assert "account.export" in {a["name"] for a in actions.json()["data"]}
    refused = await owner.post("/api/actions/account.export", json={"everything": False})
    assert refused.status_code == 422
    started = await owner.post("/api/actions/account.export", json={})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    job = await job_in(owner, job_id, "succeeded", "failed")
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    result = job["result"]
    assert set(result) == {"export_id", "url", "expires_at", "size", "counts"}
    assert result["counts"]["tasks"] == 1
    assert (await other.get(f"/api/jobs/{job_id}")).status_code == 404

    response = await running.client(origin=None).get(_path(result["url"]))
    assert response.status_code == 200
    files = _read(response.content)
    assert files["manifest.json"]["user_id"] == owner_id
    assert [t["title"] for t in files["tasks.json"]] == ["Export me"]
    mine = f"/api/account/exports/{result['export_id']}"
    assert (await owner.get(mine)).status_code == 200
    assert (await other.get(mine)).status_code == 404


@pytest.fixture
async def jobs_apps(database_url: str, tmp_path: Path) -> AsyncIterator[JobsApps]:
    async with AsyncExitStack() as stack:
        yield JobsApps(stack, database_url, tmp_path)


async def test_a_worker_builds_it_and_another_instance_serves_it(jobs_apps: JobsApps) -> None:
    """Server and worker apart, on a Redis stream: the server enqueues, the worker builds
    and stores the archive, and the server (which runs no jobs) serves the link."""
    engine = await engine_settings("redis")
    try:
        server = await jobs_apps.start(run_jobs=False, **engine)
        await jobs_apps.start(run_jobs=True, **engine)
        client = await jobs_apps.user(server)
        started = await client.post("/api/actions/account.export", json={})
        assert started.status_code == 202, started.text
        job = await job_in(client, started.json()["id"], "succeeded", "failed")
        assert job["status"] == "succeeded", job
        download = await jobs_apps.client(server).get(_path(job["result"]["url"]))
        assert download.status_code == 200
        assert "manifest.json" in _read(download.content)
    finally:
        await _drop_engine_state(engine)
