"""Outgoing mail: messages rendered from templates (plain text and HTML), sent by a
`mail.send` job over SMTP (SMTP_URL) with the job engine's retries, or written to an outbox
directory when no SMTP server is configured. Never sent inside a request.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.mail.jobs import MAIL_JOB, MailArgs, send_mail_job
    from everything_app.mail.registration import feature
    from everything_app.mail.render import TEMPLATES
    from everything_app.mail.service import send_mail

__all__ = ["MAIL_JOB", "TEMPLATES", "MailArgs", "feature", "send_mail", "send_mail_job"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "MAIL_JOB": "jobs",
            "MailArgs": "jobs",
            "send_mail_job": "jobs",
            "feature": "registration",
            "send_mail": "service",
            "TEMPLATES": "render",
        },
    )
