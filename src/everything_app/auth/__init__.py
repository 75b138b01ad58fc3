"""Accounts, sessions and credentials: sign-up and sign-in (better-auth's wire shapes), the
one credential resolver for sessions and API keys, and the dependencies that say who calls.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.auth.apikeys import looks_like_key
    from everything_app.auth.cookies import read_session_cookie
    from everything_app.auth.credentials import CredentialCache, Principal, verify_credential
    from everything_app.auth.deps import (
        QUERY_CREDENTIAL_NAMES,
        AdminUser,
        CurrentAccount,
        CurrentPrincipal,
        CurrentUser,
        OptionalPrincipal,
        credential_cache,
        credential_rules,
        optional_principal,
        require_account,
        require_user,
        session_policy,
    )
    from everything_app.auth.export_sections import (
        AccountExportSections,
        ExportSection,
        table_section,
    )
    from everything_app.auth.links import Account, OAuthState, OidcIdentity
    from everything_app.auth.models import (
        AccountExport,
        AdminAction,
        ApiKey,
        PasswordReset,
        Role,
        Session,
        User,
    )
    from everything_app.auth.oidc import oidc_verifier
    from everything_app.auth.registration import feature
    from everything_app.auth.service import (
        AccountDeletionHooks,
        delete_expired_sessions,
        ensure_admin,
    )

__all__ = [
    "QUERY_CREDENTIAL_NAMES",
    "Account",
    "AccountDeletionHooks",
    "AccountExport",
    "AccountExportSections",
    "AdminAction",
    "AdminUser",
    "ApiKey",
    "CredentialCache",
    "CurrentAccount",
    "CurrentPrincipal",
    "CurrentUser",
    "ExportSection",
    "OAuthState",
    "OidcIdentity",
    "OptionalPrincipal",
    "PasswordReset",
    "Principal",
    "Role",
    "Session",
    "User",
    "credential_cache",
    "credential_rules",
    "delete_expired_sessions",
    "ensure_admin",
    "feature",
    "looks_like_key",
    "oidc_verifier",
    "optional_principal",
    "read_session_cookie",
    "require_account",
    "require_user",
    "session_policy",
    "table_section",
    "verify_credential",
]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "looks_like_key": "apikeys",
            "read_session_cookie": "cookies",
            "CredentialCache": "credentials",
            "Principal": "credentials",
            "verify_credential": "credentials",
            "QUERY_CREDENTIAL_NAMES": "deps",
            "AdminUser": "deps",
            "CurrentPrincipal": "deps",
            "CurrentAccount": "deps",
            "CurrentUser": "deps",
            "OptionalPrincipal": "deps",
            "credential_cache": "deps",
            "credential_rules": "deps",
            "optional_principal": "deps",
            "require_account": "deps",
            "require_user": "deps",
            "session_policy": "deps",
            "AdminAction": "models",
            "AccountExportSections": "export_sections",
            "ExportSection": "export_sections",
            "table_section": "export_sections",
            "AccountExport": "models",
            "Account": "links",
            "OAuthState": "links",
            "OidcIdentity": "links",
            "oidc_verifier": "oidc",
            "ApiKey": "models",
            "PasswordReset": "models",
            "Role": "models",
            "Session": "models",
            "User": "models",
            "feature": "registration",
            "AccountDeletionHooks": "service",
            "ensure_admin": "service",
            "delete_expired_sessions": "service",
        },
    )
