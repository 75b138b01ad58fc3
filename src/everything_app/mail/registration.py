"""The mail feature: the `mail.send` job kind (no routes of its own)."""

from __future__ import annotations

from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds
from everything_app.mail.jobs import mail_kind


def register(registry: Registry) -> None:
    registry[JobKinds].add(mail_kind())


feature = Feature("mail", register=register)
