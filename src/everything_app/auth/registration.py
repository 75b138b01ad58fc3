"""The auth feature: `/api/auth` (better-auth's endpoints) and the admin routes. What it
receives from the others: account-deletion hooks (`AccountDeletionHooks`)."""

from __future__ import annotations

from everything_app.auth.email_routes import router as email_router
from everything_app.auth.mail_jobs import account_mail_kind
from everything_app.auth.routes import router
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds


def register(registry: Registry) -> None:
    registry[JobKinds].add(account_mail_kind())


feature = Feature("auth", routers=[router, email_router], register=register)
