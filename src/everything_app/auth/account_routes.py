"""`/api/account`: the account's own data, starting with downloading an export
(`account.export`, started at `POST /api/actions/account.export`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from everything_app.auth import account_export
from everything_app.auth.deps import OptionalPrincipal
from everything_app.core.db import SessionDep
from everything_app.core.deps import SettingsDep
from everything_app.core.errors import Unauthorized

account_router = APIRouter(prefix="/api/account", tags=["account"])

_ERROR = {"description": "The error shape: `{error: {code, message, details}}`."}
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The archive (a zip of one JSON file per section and manifest.json).",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    },
    401: {**_ERROR, "description": "No signed link and not signed in."},
    404: {**_ERROR, "description": "No such export among yours, or a link that is not ours."},
    410: {**_ERROR, "description": "The export, or its link, has expired (`export_expired`)."},
}
# A signed link's expiry, as Unix seconds: at most 2**40 (year 36812), a 422 beyond.
MAX_EXPIRES = 2**40


@account_router.get("/exports/{export_id}", response_class=Response, responses=_DOWNLOAD_RESPONSES)
async def download_export(
    export_id: uuid.UUID,
    principal: OptionalPrincipal,
    db: SessionDep,
    settings: SettingsDep,
    expires: Annotated[int | None, Query(ge=0, le=MAX_EXPIRES)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """Download an export (a zip archive), with the signed link the `account.export` job
    answered with (`?expires=…&signature=…`: it works from an email, signed in or not, until
    it expires), or signed in as its owner without one. Another user's export is a 404."""
    if expires is not None or signature is not None:
        export = await account_export.linked_export(
            db, settings, export_id, expires or 0, signature or ""
        )
    elif principal is None:
        raise Unauthorized()
    else:
        export = await account_export.own_export(db, principal.account.id, export_id)
    return Response(
        export.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{account_export.archive_name(export)}"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
