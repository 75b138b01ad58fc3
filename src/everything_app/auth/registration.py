"""The auth feature: `/api/auth` (better-auth's endpoints), the admin routes and
`/api/account` (exports). What it receives from the others: account-deletion hooks
(`AccountDeletionHooks`) and the sections of an account's export (`AccountExportSections`).
What it offers: the `account.export` server action and the daily prune of expired exports."""

from __future__ import annotations

from everything_app.auth.account_export import register_jobs
from everything_app.auth.account_routes import account_router
from everything_app.auth.admin_routes import router as admin_router
from everything_app.auth.email_routes import router as email_router
from everything_app.auth.export_sections import AccountExportSections, table_section
from everything_app.auth.links import Account, OidcIdentity
from everything_app.auth.mail_jobs import account_mail_kind
from everything_app.auth.models import Session, User
from everything_app.auth.routes import router
from everything_app.auth.social_routes import router as social_router
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds


def register(registry: Registry) -> None:
    sections = registry[AccountExportSections]
    sections.add(
        table_section(
            "profile",
            User,
            owner=User.id,
            exclude=("password_hash",),
            one=True,
            description="Your account (without its password hash).",
        )
    )
    sections.add(
        table_section(
            "sessions",
            Session,
            exclude=("token_hash",),
            description="Your signed-in devices (without their tokens).",
        )
    )
    sections.add(
        table_section(
            "linked_accounts",
            Account,
            description="The other providers you sign in with (no provider tokens are kept).",
        )
    )
    sections.add(
        table_section(
            "identity_provider_subjects",
            OidcIdentity,
            description="The external identity providers' subjects mapped to your account.",
        )
    )
    register_jobs(registry[JobKinds], sections)
    registry[JobKinds].add(account_mail_kind())


feature = Feature(
    "auth",
    routers=[router, email_router, social_router, admin_router, account_router],
    register=register,
)
