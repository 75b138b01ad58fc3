"""`account.export`: everything a user owns as one zip archive behind a time-limited link.

The job, acting as the user (row-level security on PostgreSQL), writes each registered
section (`export_sections`) as `<name>.json` and a `manifest.json` into a zip, then stores the
archive in `account_exports` so that every instance can serve it. The link is signed with the
app's secret and expires with the archive (EXPORT_LINK_SECONDS); `account.exports_prune`
deletes expired archives every day.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from everything_app.auth.export_sections import AccountExportSections, ExportSection, Row
from everything_app.auth.models import AccountExport, User
from everything_app.core import rls
from everything_app.core.db import utcnow
from everything_app.core.errors import AppError
from everything_app.core.jobs import JobContext, JobFailed, JobKind, JobKinds, Schedule
from everything_app.core.timestamps import format_instant
from everything_app.settings import Settings

EXPORT_KIND = "account.export"
PRUNE_KIND = "account.exports_prune"
FORMAT = "everything-app.account-export"
FORMAT_VERSION = 1
PAGE_SIZE = 1000
# Spooled in memory up to this size, then in a temporary file, while the zip is written.
_SPOOL_BYTES = 8 * 1024 * 1024
# Where the link points (auth.account_routes serves it).
DOWNLOAD_PATH = "/api/account/exports/{id}"
# The daily prune, at a quiet hour.
PRUNE_CRON = "17 3 * * *"


class ExportArgs(BaseModel):
    """`account.export` takes no arguments: it exports everything the caller owns."""

    model_config = ConfigDict(extra="forbid")


class PruneArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportGone(AppError):
    status_code = 410
    code = "export_expired"
    message = "This export has expired. Start a new one."


def export_not_found() -> AppError:
    return AppError("Export not found.", code="export_not_found", status_code=404)


# --- the link ---------------------------------------------------------------------------


def _link_key(secret: str) -> bytes:
    """A key of its own for export links, derived from the app's secret, so that a link's
    signature can never be passed off as a signed cookie (or the reverse)."""
    return hmac.new(secret.encode(), b"everything-app/account-export-link", hashlib.sha256).digest()


def link_signature(secret: str, export_id: uuid.UUID, expires: int) -> str:
    digest = hmac.new(_link_key(secret), f"{export_id}:{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def link_is_genuine(secret: str, export_id: uuid.UUID, expires: int, signature: str) -> bool:
    # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, a 500).
    expected = link_signature(secret, export_id, expires).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass"))


def download_url(settings: Settings, export_id: uuid.UUID, expires_at: datetime) -> str:
    """The archive's link: `?expires=<unix seconds>&signature=<HMAC>`, valid until then."""
    expires = int(expires_at.timestamp())
    query = urlencode(
        {"expires": expires, "signature": link_signature(settings.secret, export_id, expires)}
    )
    return f"{settings.base_url.rstrip('/')}{DOWNLOAD_PATH.format(id=export_id)}?{query}"


# --- the archive ------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not exportable")


def _encode(value: object) -> bytes:
    return json.dumps(value, default=_json_default, ensure_ascii=False).encode()


def _app_version() -> str:
    try:
        return version("everything-app")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def _write_page(out: IO[bytes], rows: list[Row], first: bool) -> None:
    out.write(b"" if first else b",\n")
    out.write(b",\n".join(_encode(row) for row in rows))


async def _write_section(
    archive: zipfile.ZipFile, section: ExportSection, db: AsyncSession, user_id: uuid.UUID
) -> int:
    """`<name>.json`, page by page (encoded and compressed off the event loop)."""
    count = 0
    with archive.open(f"{section.name}.json", "w", force_zip64=True) as out:
        if section.one:
            found: list[Row] = []
            async for rows in section.pages(db, user_id, PAGE_SIZE):
                found.extend(rows)
            await asyncio.to_thread(out.write, _encode(found[0] if found else None) + b"\n")
            return len(found[:1])
        out.write(b"[\n")
        async for rows in section.pages(db, user_id, PAGE_SIZE):
            await asyncio.to_thread(_write_page, out, rows, count == 0)
            count += len(rows)
        out.write(b"\n]\n")
    return count


async def build_archive(
    ctx: JobContext,
    sections: Iterable[ExportSection],
    user_id: uuid.UUID,
    out: IO[bytes],
    created_at: datetime,
) -> dict[str, int]:
    """Write the archive into `out`; the rows per section. One read transaction acting as
    the user. Progress: up to 90 % over the sections, one step per section."""
    todo = list(sections)
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        async with ctx.unit_of_work() as db:
            for done, section in enumerate(todo, start=1):
                counts[section.name] = await _write_section(archive, section, db, user_id)
                await ctx.progress(
                    done * 90 // max(len(todo), 1), f"{section.name}: {counts[section.name]} rows"
                )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "user_id": user_id,
            "created_at": created_at,
            "app_version": _app_version(),
            "sections": {
                s.name: {"file": f"{s.name}.json", "count": counts[s.name], "about": s.description}
                for s in todo
            },
        }
        archive.writestr("manifest.json", _encode(manifest) + b"\n")
    return counts


def _result(settings: Settings, export: AccountExport) -> dict[str, Any]:
    return {
        "export_id": str(export.id),
        "url": download_url(settings, export.id, export.expires_at),
        "expires_at": format_instant(export.expires_at),
        "size": export.size,
        "counts": export.counts,
    }


async def _by_job(db: AsyncSession, job_id: uuid.UUID) -> AccountExport | None:
    found = await db.execute(select(AccountExport).where(AccountExport.job_id == job_id))
    return found.scalar_one_or_none()


async def run_export(
    ctx: JobContext, sections: AccountExportSections, args: ExportArgs
) -> dict[str, Any]:
    """The job: build, store, and answer {export_id, url, expires_at, size, counts}.

    Idempotent: a job run again (a worker died after the archive was stored) finds its own
    archive by the job's id and answers with it; one that died before stores nothing."""
    user_id = ctx.user_id
    if user_id is None:
        raise JobFailed("account.export runs for a user")
    settings = ctx.settings
    async with ctx.unit_of_work() as db:
        existing = await _by_job(db, ctx.job_id)
        if existing is not None:
            return _result(settings, existing)
    created_at = utcnow()
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        counts = await build_archive(ctx, sections, user_id, spool, created_at)
        size = spool.tell()
        if size > settings.export_max_bytes:
            raise JobFailed(
                f"The archive would be {size} bytes, over the limit of "
                f"{settings.export_max_bytes} (EXPORT_MAX_BYTES)."
            )
        spool.seek(0)
        content = await asyncio.to_thread(spool.read)
    await ctx.progress(95, "storing the archive")
    export = AccountExport(
        user_id=user_id,
        job_id=ctx.job_id,
        created_at=created_at,
        expires_at=created_at + timedelta(seconds=settings.export_link_seconds),
        size=size,
        counts=counts,
        content=content,
    )
    try:
        async with ctx.unit_of_work(write=True) as db:
            db.add(export)
            await db.flush()
    except IntegrityError:  # the same job, delivered twice at once: the other one stored it
        async with ctx.unit_of_work() as db:
            existing = await _by_job(db, ctx.job_id)
            if existing is not None:
                return _result(settings, existing)
            if await db.get(User, user_id) is None:  # deleted while its export was built
                raise JobFailed("The account no longer exists.") from None
        raise
    await ctx.progress(100, "ready")
    return _result(settings, export)


async def prune_exports(ctx: JobContext, args: PruneArgs) -> dict[str, int]:
    """The daily housekeeping: delete every user's expired archives."""
    async with ctx.unit_of_work(write=True) as db:
        await rls.act_as_system(db, tables=["account_exports"], reason="prune expired exports")
        result = await db.execute(
            delete(AccountExport)
            .where(AccountExport.expires_at <= utcnow())
            .returning(AccountExport.id)
        )
        deleted = len(result.all())
    return {"deleted": deleted}


# --- serving ----------------------------------------------------------------------------


async def own_export(db: AsyncSession, user_id: uuid.UUID, export_id: uuid.UUID) -> AccountExport:
    """The caller's archive, with its content; another's (or none) is a 404, an expired one
    a 410."""
    query = (
        select(AccountExport)
        .options(undefer(AccountExport.content))
        .where(AccountExport.id == export_id, AccountExport.user_id == user_id)
    )
    return _live((await db.execute(query)).scalar_one_or_none())


async def linked_export(
    db: AsyncSession, settings: Settings, export_id: uuid.UUID, expires: int, signature: str
) -> AccountExport:
    """The archive a signed link names: a link whose signature does not match (tampered,
    or signed with another secret) is a 404, as is one for an archive already pruned; an
    expired link, or archive, a 410."""
    if not link_is_genuine(settings.secret, export_id, expires, signature):
        raise export_not_found()
    if expires <= int(utcnow().timestamp()):
        raise ExportGone()
    # The signature is the right to read this one archive, whoever calls (a mail link).
    await rls.act_as_system(db, tables=["account_exports"], reason="signed export link")
    query = (
        select(AccountExport)
        .options(undefer(AccountExport.content))
        .where(AccountExport.id == export_id)
    )
    return _live((await db.execute(query)).scalar_one_or_none())


def _live(export: AccountExport | None) -> AccountExport:
    if export is None:
        raise export_not_found()
    if export.expires_at <= utcnow():
        raise ExportGone()
    return export


def archive_name(export: AccountExport) -> str:
    return f"everything-app-export-{export.created_at:%Y%m%d-%H%M%S}.zip"


# --- registration -----------------------------------------------------------------------


def register_jobs(kinds: JobKinds, sections: AccountExportSections) -> None:
    """`account.export` (a server action) over this app's sections, and the daily prune."""

    async def export(ctx: JobContext, args: ExportArgs) -> dict[str, Any]:
        return await run_export(ctx, sections, args)

    kinds.add(
        JobKind(
            EXPORT_KIND,
            ExportArgs,
            export,
            action=True,
            max_attempts=3,
            summary="Everything you own as one zip archive, behind a link valid for a day.",
        )
    )
    kinds.add(JobKind(PRUNE_KIND, PruneArgs, prune_exports, summary="Delete expired exports."))
    kinds.schedule(Schedule("account.exports_prune.daily", PRUNE_KIND, cron=lambda _s: PRUNE_CRON))
