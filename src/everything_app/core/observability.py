"""`GET /metrics` (Prometheus text format) and Sentry error reporting."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from everything_app.core.errors import Unauthorized
from everything_app.core.metrics import DatabaseMetrics
from everything_app.core.routers import PUBLIC
from everything_app.settings import Settings

# Public unless METRICS_TOKEN is set: then the route checks its own bearer token.
router = APIRouter(tags=["observability"], dependencies=[PUBLIC])

_EXAMPLE = (
    "# TYPE everything_app_http_requests_total counter\n"
    'everything_app_http_requests_total{method="GET",route="/api/keys/{id}",status="200"} 3.0\n'
)


def operator_access(request: Request) -> bool:
    """Whether the request may read operators' data (metrics, `/readyz`'s details): anyone
    while `METRICS_TOKEN` is unset, else only `Authorization: Bearer <METRICS_TOKEN>`."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        return True
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(given, expected)  # constant time: no timing oracle


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Every metric in the Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        401: {"description": "`METRICS_TOKEN` is set and the bearer token is missing or wrong."},
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process. Open unless `METRICS_TOKEN` is set, then it needs
    `Authorization: Bearer <METRICS_TOKEN>`."""
    if not operator_access(request):
        raise Unauthorized(
            "A valid metrics token is required.",
            code="invalid_metrics_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    registry: CollectorRegistry = request.app.state.metrics
    features = getattr(request.app.state, "registry", None)
    if features is not None:  # what every instance shares, read from the database now
        await features[DatabaseMetrics].refresh(getattr(request.app.state, "sessionmaker", None))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


# What an event may keep of the request: where it went, never who sent what.
_REQUEST_KEPT = ("url", "method")


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry `before_send`: drop headers (credentials), cookies (sessions), bodies
    (passwords, chat text), query strings and the user, keeping the URL and method."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in _REQUEST_KEPT if key in request}
    event.pop("user", None)
    return event


def init_sentry(settings: Settings) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set; returns whether it was turned on."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk  # only when configured: it patches frameworks as it starts

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        # No personal data: the SDK's default (send_default_pii off, its event scrubber on).
        # Passing send_default_pii=False explicitly is deprecated since sentry-sdk 2.75 and
        # warns; data_collection (its successor) opts into collecting most categories.
        # Frame locals can hold passwords and tokens; bodies hold users' data.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,  # type: ignore[arg-type]
    )
    return True
