"""Structured JSON logs through structlog, with secrets redacted before rendering."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
import structlog

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "newpassword",
        "currentpassword",
        "token",
        "authorization",
        "cookie",
        "set-cookie",
        "secret",
        "secret_key",
        "api_key",
        "key",
        "x-api-key",
    }
)
REDACTED = "[redacted]"
# Credentials that may hide inside free text (an exception message, a URL).
_SECRET_PATTERNS = re.compile(
    r"(Bearer\s+)[A-Za-z0-9._~+/=%-]+"
    r"|()\bea_[A-Za-z0-9_-]{16,}"
    r"|(session_token=)[^;\s]+"
    r"|((?:password|secret|token|api_key)[\"']?\s*[=:]\s*[\"']?)[^\s,;\"'}]+",
    re.IGNORECASE,
)
# A word every match of one of `_SECRET_PATTERNS`' alternatives holds (lowercased).
_SECRET_WORDS = ("bearer", "ea_", "token", "password", "secret", "api_key")


def _scrub(value: str) -> str:
    def keep_label(match: re.Match[str]) -> str:
        label = next((group for group in match.groups() if group is not None), "")
        return label + REDACTED

    return _SECRET_PATTERNS.sub(keep_label, value)


def _may_hold_secrets(fields: Mapping[str, Any]) -> bool:
    """Whether `redact_secrets` could change `fields`: a sensitive name, or text holding a
    word each of `_SECRET_PATTERNS`'s matches holds. Substring tests on the values joined
    cost a tenth of the patterns' search on each value (the access line's usual case:
    nothing to redact). Sound: ASCII text matches a case-insensitive pattern only where its
    lowercase holds the pattern's words; other text (where `re` folds the long s, U+017F,
    to s) takes the full pass."""
    if not SENSITIVE_KEYS.isdisjoint(name.lower() for name in fields):
        return True
    texts = "\x00".join(value for value in fields.values() if isinstance(value, str))
    if not texts.isascii():
        return True
    lowered = texts.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for name, value in list(event_dict.items()):
        if name.lower() in SENSITIVE_KEYS:
            event_dict[name] = REDACTED
        elif isinstance(value, str):
            event_dict[name] = _scrub(value)
    return event_dict


_handler: logging.Handler | None = None
_json_lines = False


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time (so redirection and capture work)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        # Level filtering first, so a dropped debug/info line costs no processing at all.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    global _handler, _json_lines
    _json_lines = json
    root = logging.getLogger()
    if _handler is not None:  # configured before (tests build many apps): replace ours only
        root.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.setFormatter(formatter)
    root.addHandler(_handler)
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours (and has no request id).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _WebSocketHandshakeLines) for f in error_log.filters):
        error_log.addFilter(_WebSocketHandshakeLines())


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def _json_line(line: dict[str, Any]) -> str:
    """One JSON line, by orjson (a third of the time the standard encoder takes); what it
    cannot write (an int past 64 bits) takes the standard way, anything unknown its repr."""
    try:
        return orjson.dumps(line, default=repr, option=orjson.OPT_APPEND_NEWLINE).decode()
    except TypeError:
        return json.dumps(line, default=repr) + "\n"


def write_info_line(logger: logging.Logger, event: str, fields: dict[str, Any]) -> None:
    """`structlog.get_logger(logger.name).info(event, **fields)`, for the line written on
    every request: the same JSON line (bound context, level, logger, UTC timestamp, secrets
    redacted), made without structlog's processor chain and stdlib's LogRecord, which cost
    the most of a cached session check's time. Other output formats take the usual way."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _handler
    if not _json_lines or handler is None:
        get_logger(logger.name).info(event, **fields)
        return
    line: dict[str, Any] = structlog.contextvars.get_contextvars()
    line.update(fields)
    line["event"] = event
    line["level"] = "info"
    line["logger"] = logger.name
    line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if _may_hold_secrets(line):
        redact_secrets(None, "info", line)
    text = _json_line(line)
    with handler.lock or contextlib.nullcontext():
        sys.stderr.write(text)


class _WebSocketHandshakeLines(logging.Filter):
    """The lines uvicorn and its websockets library write for every WebSocket
    (`"WebSocket /path" [accepted]` or a status, `connection open`, `connection closed`):
    our access log has one per socket already (status 101, or the refusal), with the
    request id and the user. Formatted, redacted and written, they were a tenth of the time
    it took a thousand live-query subscribers to connect."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (
            isinstance(message, str)
            and (message.startswith(_WS_HANDSHAKE) or message in _WS_OPEN_CLOSE)
        )


_WS_HANDSHAKE = '%s - "WebSocket %s"'
_WS_OPEN_CLOSE = frozenset({"connection open", "connection closed"})
