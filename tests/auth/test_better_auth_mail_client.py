"""better-auth's own client (npm `better-auth`, the version in tests/js/package.json) through
every flow that mails a link, against our server on a real socket, with the links read from
a real SMTP server: requestPasswordReset, resetPassword, sendVerificationEmail, verifyEmail,
changeEmail. The mail goes out as it does in production: a `mail.send` job, run by the job
engine embedded in the app."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.testing.serve import serve
from tests.conftest import PASSWORD, make_settings, require_service, start_app, unique_email
from tests.mail.smtp_server import SmtpServer, bodies

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")
TRUSTED = "http://app.example"

pytestmark = pytest.mark.slow  # a node process and a real server


@pytest.fixture(autouse=True)
def _node_available() -> None:
    require_service(
        NODE is not None and (JS_DIR / "node_modules" / "better-auth").is_dir(),
        "node and tests/js/node_modules are needed (scripts/test.sh runs `npm ci` in tests/js)",
    )


class BetterAuthClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def call(self, call: str, args: dict[str, Any], token: str | None = None) -> Any:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        line = json.dumps({"call": call, "args": args, "token": token}) + "\n"
        self.process.stdin.write(line.encode())
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not answer:
            assert self.process.stderr is not None
            raise AssertionError((await self.process.stderr.read()).decode()[-2000:])
        return json.loads(answer)

    async def ok(self, call: str, args: dict[str, Any], token: str | None = None) -> Any:
        out = await self.call(call, args, token)
        assert out["error"] is None, (call, out)
        return out["data"]


async def _node(url: str) -> AsyncIterator[BetterAuthClient]:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(JS_DIR / "auth_mail_client.mjs"),
        url,
        TRUSTED,
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield BetterAuthClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


class Mailbox:
    """The SMTP server's messages, one at a time, in order of arrival."""

    def __init__(self, smtp: SmtpServer, url: str) -> None:
        self.smtp, self.url, self.read = smtp, url, 0

    async def next_link(self) -> str:
        """The link of the next message, pointed at the server under test (BASE_URL names
        another host in the tests)."""
        received = (await self.smtp.wait_for(self.read + 1, seconds=30))[self.read]
        self.read += 1
        found = re.search(r"https?://\S+", bodies(received.message)[0])
        assert found is not None
        parts = urlsplit(found.group(0))
        return f"{self.url}{parts.path}?{parts.query}"


async def test_better_auth_client_reset_verify_and_change_email(
    database_url: str,
    tmp_path: Path,
    smtp: SmtpServer,
) -> None:
    settings = make_settings(database_url, tmp_path, smtp_url=smtp.url, trusted_origins=TRUSTED)
    async with AsyncExitStack() as stack:
        app = await start_app(stack, settings)
        url = await stack.enter_async_context(serve(app, http=HTTP_PROTOCOL))
        mailbox = Mailbox(smtp, url)
        async for client in _node(url):
            email = unique_email("js")
            signed_up = await client.ok(
                "signUp.email", {"email": email, "password": PASSWORD, "name": "JS"}
            )
            assert signed_up["user"]["emailVerified"] is False
            await mailbox.next_link()  # the sign-up's verification mail: asked again below

            # sendVerificationEmail → the mailed link → verifyEmail
            sent = await client.ok(
                "sendVerificationEmail", {"email": email, "callbackURL": f"{TRUSTED}/ok"}
            )
            assert sent == {"status": True}
            link = await mailbox.next_link()
            token = parse_qs(urlsplit(link).query)["token"][0]
            verified = await client.ok("verifyEmail", {"query": {"token": token}})
            assert verified == {"status": True, "user": None}
            session = await client.ok("getSession", {}, signed_up["token"])
            assert session["user"]["emailVerified"] is True

            # requestPasswordReset → the link (a redirect with the token) → resetPassword
            answer = await client.ok(
                "requestPasswordReset", {"email": email, "redirectTo": f"{TRUSTED}/reset"}
            )
            assert answer["status"] is True
            unknown = await client.ok(
                "requestPasswordReset", {"email": unique_email("nobody"), "redirectTo": TRUSTED}
            )
            assert unknown == answer
            link = await mailbox.next_link()
            opened = await client.ok("openLink", {"url": link})
            assert opened["status"] == 302
            assert opened["location"].startswith(f"{TRUSTED}/reset?token=")
            reset_token = parse_qs(urlsplit(opened["location"]).query)["token"][0]
            new_password = PASSWORD + " (new)"
            done = await client.ok(
                "resetPassword", {"newPassword": new_password, "token": reset_token}
            )
            assert done == {"status": True}
            again = await client.call(
                "resetPassword", {"newPassword": new_password, "token": reset_token}
            )
            assert again["error"]["status"] == 400
            assert again["error"]["code"] == "INVALID_TOKEN"
            gone = await client.ok("getSession", {}, signed_up["token"])
            assert gone is None  # the reset ended every session
            old = await client.call("signIn.email", {"email": email, "password": PASSWORD})
            assert old["error"]["status"] == 401
            signed_in = await client.ok("signIn.email", {"email": email, "password": new_password})

            # changeEmail → the link mailed to the new address → verifyEmail
            new_email = unique_email("js-new")
            changed = await client.ok(
                "changeEmail",
                {"newEmail": new_email, "callbackURL": f"{TRUSTED}/me"},
                signed_in["token"],
            )
            assert changed == {"status": True}
            link = await mailbox.next_link()
            assert smtp.received[-1].rcpt_tos == [new_email]
            token = parse_qs(urlsplit(link).query)["token"][0]
            moved = await client.ok("verifyEmail", {"query": {"token": token}})
            assert moved["status"] is True
            assert moved["user"]["email"] == new_email
            assert moved["user"]["emailVerified"] is True
            session = await client.ok("getSession", {}, signed_in["token"])
            assert session["user"]["email"] == new_email

            # Refusals the client reports as errors.
            evil = await client.call(
                "requestPasswordReset", {"email": new_email, "redirectTo": "https://evil.example"}
            )
            assert evil["error"]["status"] == 403
            bad = await client.call("verifyEmail", {"query": {"token": "not-a-token"}})
            assert bad["error"]["status"] == 401
            assert bad["error"]["code"] == "INVALID_TOKEN"
