"""Sending mail from a feature: `await send_mail(db, to, template, context)`.

The message becomes a `mail.send` job in the caller's unit of work: it is dispatched only
once that work commits (nothing is sent for work rolled back), and sent by a worker with
retries, never inside the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from email.headerregistry import Address

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.jobs import enqueue
from everything_app.mail.jobs import MAIL_JOB, MailArgs
from everything_app.mail.render import check_template


async def send_mail(
    db: AsyncSession,
    to: str,
    template: str,
    context: Mapping[str, str],
    *,
    user_id: uuid.UUID | None = None,
    key: str | None = None,
) -> uuid.UUID:
    """Queue the message `template` (see mail.render.TEMPLATES) for `to`; the job's id.

    `user_id`: whose mail this is (None for the app's own); `key`: a unique key, so the same
    message is queued once however often this is called with it."""
    check_template(template, context)
    Address(addr_spec=to)  # a ValueError for anything but one address (no header injection)
    args = MailArgs(to=to, template=template, context=dict(context))
    return await _enqueue(db, MAIL_JOB, args, user_id=user_id, key=key)


async def _enqueue(
    db: AsyncSession, kind: str, args: BaseModel, *, user_id: uuid.UUID | None, key: str | None
) -> uuid.UUID:
    """The job engine's enqueue (one seam, which tests of the handler replace)."""
    return await enqueue(db, kind, args, user_id=user_id, key=key)
