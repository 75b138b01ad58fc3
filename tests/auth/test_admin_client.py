"""better-auth's own client with its `adminClient` plugin (npm `better-auth`), driving every
admin endpoint against our server: what an app built on better-auth's admin plugin sees."""

from __future__ import annotations

import asyncio
import json
import shutil
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.testing.serve import serve
from tests.conftest import (
    PASSWORD,
    make_admin,
    make_settings,
    require_service,
    sign_up,
    start_app,
    unique_email,
)

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.slow  # a node process and a real server


@pytest.fixture(autouse=True)
def _node_available() -> None:
    require_service(
        NODE is not None and (JS_DIR / "node_modules" / "better-auth").is_dir(),
        "node and tests/js/node_modules are needed (scripts/test.sh runs `npm ci` in tests/js)",
    )


async def _run_client(*args: str) -> dict[str, dict[str, Any]]:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(JS_DIR / "admin_client.mjs"),
        *args,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-3000:]
    steps = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return {s["step"]: s for s in steps}


async def test_the_admin_client_drives_every_endpoint(database_url: str, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        app = await start_app(stack, make_settings(database_url, tmp_path))
        url = await stack.enter_async_context(serve(app, http=HTTP_PROTOCOL))
        async with httpx.AsyncClient(base_url=url) as http:
            signed = await sign_up(http)
        await make_admin(app, signed["user"]["id"])
        email = unique_email("managed")
        steps = await _run_client(url, signed["token"], email, PASSWORD)

    def ok(name: str) -> Any:
        assert steps[name]["error"] is None, (name, steps[name])
        return steps[name]["data"]

    def refused(name: str) -> dict[str, Any]:
        error: dict[str, Any] | None = steps[name]["error"]
        assert error is not None, (name, steps[name])
        return error

    user = ok("createUser")["user"]
    assert user["email"] == email
    assert user["role"] == "user"
    assert user["banned"] is False
    assert user["banReason"] is None
    assert user["banExpires"] is None
    listed = ok("listUsers")
    assert [u["email"] for u in listed["users"]] == [email]
    assert listed["total"] == 1
    assert listed["limit"] == 10
    assert listed["offset"] == 0
    admins = ok("listUsersFiltered")
    assert [u["id"] for u in admins["users"]] == [signed["user"]["id"]]
    assert ok("getUser")["email"] == email
    assert ok("updateUser")["name"] == "Renamed By Admin"
    assert ok("setRoleAdmin")["user"]["role"] == "admin"
    assert ok("setRoleUser")["user"]["role"] == "user"

    assert ok("signIn")["user"]["email"] == email
    assert refused("userListUsers")["status"] == 403
    assert refused("userListUsers")["code"] == "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"
    assert refused("userBanUser")["code"] == "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"
    assert ok("userHasPermission") == {"error": None, "success": False}
    assert ok("adminHasPermission") == {"error": None, "success": True}

    sessions = ok("listUserSessions")["sessions"]
    assert len(sessions) == 1
    assert sessions[0]["userId"] == user["id"]
    assert ok("revokeUserSession") == {"success": True}
    assert ok("sessionAfterRevoke") is None  # the revoked session is signed out
    ok("signInAgain")
    assert ok("revokeUserSessions") == {"success": True}
    assert ok("sessionsAfterRevokeAll") == {"sessions": []}

    assert ok("setUserPassword") == {"status": True}
    ok("signInNewPassword")

    banned = ok("banUser")["user"]
    assert banned["banned"] is True
    assert banned["banReason"] == "Spamming"
    assert banned["banExpires"] is not None
    refusal = refused("signInBanned")
    assert refusal["status"] == 403
    assert refusal["code"] == "BANNED_USER"
    assert ok("unbanUser")["user"]["banned"] is False
    ok("signInUnbanned")

    assert ok("removeUser") == {"success": True}
    gone = refused("getRemovedUser")
    assert gone["status"] == 404
    assert gone["code"] == "USER_NOT_FOUND"
