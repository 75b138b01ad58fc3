"""create_app(settings): wires features, middleware and error handlers."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.cors import CORSMiddleware

from everything_app import (
    ai,
    auth,
    chat,
    gateway,
    housekeeping,
    jobs,
    keys,
    mail,
    notifications,
    planner,
    realtime,
    reservations,
    webapp,
)
from everything_app.ai import OfflineRules, build_providers, model_registry
from everything_app.auth import CredentialCache
from everything_app.chat import ChatLimits, Generations, mark_orphaned_answers
from everything_app.core import backup as backups
from everything_app.core import docs, health, heap, observability, route_index
from everything_app.core.db import (
    create_engine,
    create_sessionmaker,
    install_database_error_handlers,
)
from everything_app.core.errors import install_error_handlers
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKinds, JobServices
from everything_app.core.jobs.runtime import JobsRuntime
from everything_app.core.logging import configure_logging
from everything_app.core.metrics import build_registry
from everything_app.core.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
)
from everything_app.core.ratelimit import RateLimiter
from everything_app.core.redis import connect_redis
from everything_app.core.shutdown import watched
from everything_app.realtime import QueryRegistry, start_realtime
from everything_app.settings import Settings

# Every feature, in the order its routes are mounted. The one place a feature is listed.
# FastAPI tries routes in order, each against every route before it: the hot paths (the
# session check, the planner's lists) come first.
FEATURES: tuple[Feature, ...] = (
    auth.feature,
    planner.feature,
    keys.feature,
    ai.feature,
    chat.feature,
    gateway.feature,
    reservations.feature,
    notifications.feature,
    jobs.feature,
    realtime.feature,
    housekeeping.feature,
    mail.feature,
    webapp.feature,
)

# FastAPI's native OpenTelemetry, off (see the OPENTELEMETRY setting).
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def register_features(features: Sequence[Feature] = FEATURES) -> Registry:
    """What the features offer each other (live queries, chat tools, owned tables,
    account-deletion hooks), registered afresh: each app gets its own."""
    registry = Registry()
    for feature in features:
        feature.register(registry)
    return registry


def create_app(
    settings: Settings | None = None,
    *,
    features: Sequence[Feature] = (),
    run_jobs: bool | None = None,
) -> FastAPI:
    """The app. `features`: more features after the app's own (tests add job kinds of their
    own this way). `run_jobs`: whether this process runs jobs (default JOBS_IN_SERVE; the
    `worker` command passes True); every app sends the jobs it enqueues either way."""
    settings = settings or Settings()
    all_features = (*FEATURES, *features)
    runs_jobs = settings.jobs_in_serve if run_jobs is None else run_jobs
    configure_logging(settings.log_level, json=settings.log_json)
    _ = settings.secret  # generate or load the secret now, not on the first request
    models = model_registry(settings)  # a bad AI_MODELS fails here, at start
    observability.init_sentry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Held for the process's life: tells `restore` the SQLite database is in use (on
        # PostgreSQL the connections' application_name does, see core.backup).
        with backups.hold_serving_lock(settings):
            async with serve_database(app):
                yield

    @asynccontextmanager
    async def serve_database(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        redis = connect_redis(settings.redis_url) if settings.redis_url else None
        app.state.redis = redis
        app.state.limiter = RateLimiter(redis, namespace=settings.redis_prefix)
        # Changes reach live queries here and, through a broker, on every other instance.
        live = await start_realtime(
            settings, app.state.sessionmaker, redis, app.state.registry[QueryRegistry]
        )
        app.state.realtime = live
        app.state.changes = live.bus
        # Verified credentials, dropped by revocations from any instance (auth.credentials).
        app.state.credentials = CredentialCache(ttl=settings.auth_cache_seconds)
        live.bus.listen(app.state.credentials.on_changes)
        live.bus.on_resync(app.state.credentials.clear)
        app.state.models = models
        app.state.providers = build_providers(settings, list(app.state.registry[OfflineRules]))
        app.state.generations = Generations(
            app.state.sessionmaker,
            app.state.providers,
            app.state.changes,
            ChatLimits.from_settings(settings),
        )
        await mark_orphaned_answers(app.state.sessionmaker)
        services = app.state.registry[JobServices]
        services.provide(type(app.state.providers), app.state.providers)
        app.state.jobs = JobsRuntime(
            settings,
            app.state.sessionmaker,
            live.bus,
            app.state.registry[JobKinds],
            services,
            run=runs_jobs,
        )
        await app.state.jobs.start()
        try:
            with heap.serving():  # the collector as a server wants it (core.heap)
                yield
        finally:
            # Each step says so in the log if it hangs (core.shutdown), naming itself.
            async with watched("jobs"):
                await app.state.jobs.stop()
            async with watched("chat_generations"):
                await app.state.generations.shutdown()
            async with watched("realtime"):
                await live.aclose()
            async with watched("ai_providers"):
                await app.state.providers.aclose()
            async with watched("database"):
                await engine.dispose()
            if redis is not None:
                async with watched("redis"):
                    await redis.aclose()

    app = FastAPI(
        title="Everything-App",
        version="0.1.0",
        summary="Accounts, AI chat, API keys, planner, live queries and reservations.",
        lifespan=lifespan,
        # /docs is ours (core.docs: packaged assets, strict CSP); no ReDoc, no OAuth2 page.
        # /openapi.json stays with DOCS_ENABLED=false: it is data (no script runs from it),
        # the README documents the same routes, and client generators and tests read it.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    if settings.docs_enabled:
        app.include_router(docs.docs_router(app.title, app.openapi_url or "/openapi.json"))
    app.state.settings = settings
    app.state.metrics = build_registry(app.state)
    install_error_handlers(app)
    install_database_error_handlers(app)
    app.state.registry = register_features(all_features)
    for router in (health.router, observability.router):
        app.include_router(router)
    for feature in all_features:
        for router in feature.routers:
            app.include_router(router)
    # Last: `/`, and the fallback that answers the app's client routes where nothing else did.
    webapp.mount_webapp(app, settings)
    # Every route is in: narrow the first matching pass, and serve the routes FastAPI would
    # only hand the request to without its request machinery (core.direct_routes).
    route_index.install(app, serve_directly=not settings.opentelemetry)

    # Added innermost first: a request passes RequestContext (request id, security headers,
    # access log, the last-resort 500), CORS, BodyLimit.
    # CSRF is no middleware: auth.deps checks the origin where the session cookie is resolved.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(settings.all_trusted_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", "X-Retry-After", "X-Chat-Session-Id"],
    )
    app.add_middleware(RequestContextMiddleware, settings=settings)
    return app


async def run_worker(app: FastAPI) -> None:
    """Run `app` as a jobs worker (no HTTP): its lifespan (database, change bus, services,
    the jobs runtime) until SIGTERM or SIGINT, then a graceful stop (core.jobs.runtime)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        await stop.wait()
