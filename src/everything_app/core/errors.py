"""One error type raised by services, rendered by one set of handlers.

The path prefix picks the rendering, because each family of clients parses its own shape:
the API's `{"error": {"code", "message", "details"}}` everywhere, better-auth's
`{"code": "UPPER_CODE", "message"}` under `/api/auth`, and OpenAI's
`{"error": {"message", "type", "param", "code"}}` under `/v1` (the OpenAI-compatible gateway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

BETTER_AUTH_PREFIX = "/api/auth"
OPENAI_PREFIX = "/v1"


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = list(details)
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    message = "The request is not valid."


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests. Please try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        seconds = str(max(1, retry_after))
        super().__init__(message, headers={"Retry-After": seconds, "X-Retry-After": seconds})
        self.retry_after = max(1, retry_after)


class ServiceUnavailable(AppError):
    """The database cannot serve us right now; `retry_after` seconds is a fair wait, or None
    when a retry is not safe to suggest (a write whose commit may or may not have landed)."""

    status_code = 503
    code = "service_unavailable"
    message = "The database is unavailable for a moment. Please retry shortly."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, retry_after: int | None = 1
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(message, code=code, headers=headers)


class CodedHTTPException(StarletteHTTPException):
    """For middleware that refuses a request while FastAPI reads its body: FastAPI lets
    only an HTTPException through from there, and this one names its error code."""

    def __init__(self, status_code: int, detail: str, *, code: str) -> None:
        super().__init__(status_code, detail)
        self.code = code


def is_openai_path(path: str) -> bool:
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


# OpenAI's own names for the few generic codes its SDKs and clients look at.
_OPENAI_CODES = {"rate_limited": "rate_limit_exceeded"}


def openai_error_body(
    status: int, code: str | None, message: str, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object; its `type` follows the status the way OpenAI's API sets it."""
    if status == 429:
        error_type = "requests"
    elif status >= 500:
        error_type = "server_error"
    else:
        error_type = "invalid_request_error"
    code = _OPENAI_CODES.get(code, code) if code is not None else None
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def _openai_param(details: Sequence[Any]) -> str | None:
    """The offending parameter as OpenAI names it (`messages[0].role`), from the first detail."""
    first = details[0] if details else None
    if not isinstance(first, Mapping):
        return None
    if isinstance(first.get("param"), str):
        return str(first["param"])
    loc = [part for part in first.get("loc", ()) if part != "body"]
    if not loc:
        return None
    param = str(loc[0])
    for part in loc[1:]:
        param += f"[{part}]" if isinstance(part, int) else f".{part}"
    return param


def error_body(
    path: str, code: str, message: str, details: Sequence[Any] = (), *, status: int = 400
) -> dict[str, Any]:
    if path.startswith(BETTER_AUTH_PREFIX):
        return {"code": code.upper(), "message": message}
    if is_openai_path(path):
        return openai_error_body(status, code, message, _openai_param(details))
    return {"error": {"code": code, "message": message, "details": list(details)}}


def error_response(request: Request, error: AppError) -> JSONResponse:
    body = error_body(
        request.url.path, error.code, error.message, error.details, status=error.status_code
    )
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the rejected input: it may be a password or a key.
    return [
        {"loc": list(err.get("loc", ())), "type": err.get("type", ""), "msg": err.get("msg", "")}
        for err in exc.errors()
    ]


async def _handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(request, exc)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        error: AppError = BadRequest("The request body is not valid JSON.", code="invalid_json")
    else:
        error = ValidationFailed(details=details)
        if request.url.path.startswith(BETTER_AUTH_PREFIX):
            # better-auth answers schema failures with 400 and a message naming the field.
            first = details[0] if details else {"loc": [], "msg": "invalid"}
            field = ".".join(str(part) for part in first["loc"][1:]) or "body"
            error = BadRequest(f"[{field}] {first['msg']}", code="validation_error")
        elif is_openai_path(request.url.path):
            error = _openai_validation_error(details)
    return error_response(request, error)


def _openai_validation_error(details: list[dict[str, Any]]) -> AppError:
    """OpenAI answers schema failures with 400 naming the parameter (its SDKs raise
    BadRequestError); the renderer puts the parameter in `param`."""
    param = _openai_param(details) or "body"
    if details and details[0]["type"] == "missing":
        return BadRequest(
            f"Missing required parameter: '{param}'.",
            code="missing_required_parameter",
            details=details,
        )
    reason = details[0]["msg"] if details else "invalid"
    return BadRequest(
        f"Invalid value for '{param}': {reason}", code="invalid_value", details=details
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404:
        message = "Not found."
    error = AppError(message, code=code, status_code=exc.status_code, headers=exc.headers)
    return error_response(request, error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
