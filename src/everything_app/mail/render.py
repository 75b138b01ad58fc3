"""Messages from templates: a subject, a plain-text body and an HTML body per kind.

A kind is three files in `templates/`: `<kind>.subject.txt`, `<kind>.txt` and
`<kind>.html` (autoescaped), each a Jinja template given the context the sender passes plus
`app_name`. A new kind is three new files and its name in `TEMPLATES`; a missing variable is
an error (StrictUndefined), never a blank in a sent message.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

# Every kind of message, with the context variables each one needs.
TEMPLATES: dict[str, frozenset[str]] = {
    "reset-password": frozenset({"name", "url"}),
    "verify-email": frozenset({"name", "url"}),
    "change-email": frozenset({"name", "url", "new_email"}),
    "notification": frozenset({"name", "title", "body"}),
}
APP_NAME = "Everything-App"


class UnknownTemplate(ValueError):
    pass


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("everything_app.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def check_template(template: str, context: Mapping[str, str]) -> None:
    """UnknownTemplate unless `template` exists and `context` has what it needs."""
    needed = TEMPLATES.get(template)
    if needed is None:
        raise UnknownTemplate(f"no mail template {template!r}")
    missing = needed - context.keys()
    if missing:
        raise UnknownTemplate(f"mail template {template!r} needs {sorted(missing)}")


def render(
    template: str,
    context: Mapping[str, str],
    *,
    sender: str,
    to: str,
    message_id: str,
) -> EmailMessage:
    """The whole message: headers, a text/plain part and a text/html alternative."""
    check_template(template, context)
    env = _environment()
    values = {"app_name": APP_NAME, **context}
    subject = env.get_template(f"{template}.subject.txt").render(values)
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # one line, whatever the template did
    message["From"] = sender
    message["To"] = str(Address(addr_spec=to))
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(env.get_template(f"{template}.txt").render(values))
    message.add_alternative(env.get_template(f"{template}.html").render(values), subtype="html")
    return message
