"""A real SMTP server for tests (aiosmtpd) on the test's own event loop, and helpers to
run mail jobs.

`SmtpServer` listens on 127.0.0.1 at a free port, keeps what it receives, can refuse every
message with a 5xx (`refuse = True`), can stop and start again on the same port (a server
that is down, then back), and checks AUTH PLAIN/LOGIN against one user and password.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.private_services import free_port

SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret:with/odd@chars"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    refuse: bool = False
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self,
                hostname="localhost",
                auth_require_tls=False,  # plain TCP on loopback in tests
                authenticator=self._authenticate,
                loop=loop,
            ),
            "127.0.0.1",
            self.port,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == SMTP_USER.encode()
            and data.password == SMTP_PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.attempts += 1
        if self.refuse:
            return "554 5.7.1 Refused by the test"
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        async with self._arrived:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, login)
            )
            self._arrived.notify_all()
        return "250 2.0.0 OK"

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        """The first `count` messages, once they have arrived."""
        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received[:count]


def bodies(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())
