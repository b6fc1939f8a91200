"""The ASGI application: /graphql, /healthz, /readyz, /metrics, /track/{token}."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from app.delivery import DeliveryConfig, DeliveryWorker
from app.email import Mailer, SmtpConfig
from app.graphiql import graphiql_html
from app.graphql import graphql_endpoint
from app.hub import Hub
from app.metrics import Metrics
from app.relay import Relay
from app.scheduler import AlertScheduler
from app.settings import Settings
from app.tracking import Tracking
from app.tracking_live import tracking_routes
from app.ws import graphql_ws
from db.clock import Clock, system_clock
from db.engine import Database, connect
from db.webhook_secrets import SecretBox
from permissions.principal import Role
from permissions.tokens import TokenVerifier
from schema.build import schema_for
from schema.execute import DocumentCache
from schema.limits import Limits

log = logging.getLogger("handoff.app")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4"
    )


READY_TIMEOUT_SECONDS = 2.0


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers within two seconds: a load balancer stops
    sending traffic to a process that would only answer 503, and resumes by itself."""
    db: Database = request.app.state.db
    retry = str(request.app.state.settings.retry_after_seconds)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable"}, status_code=503, headers={"Retry-After": retry}
        )
    return JSONResponse({"status": "ready"})


async def flush_metrics(metrics: Metrics) -> None:
    """Share this worker's counters with the others (``METRICS_DIR``) every second."""
    while True:
        try:
            await asyncio.to_thread(metrics.flush)
        except OSError:
            log.warning("cannot write metrics to %s", metrics.directory, exc_info=True)
        await asyncio.sleep(metrics.flush_seconds)


def warm_up() -> None:
    """Start-up work that would otherwise land on the first requests: build every
    role's schema, then freeze what is alive (modules, schemas, mappers) out of the
    cyclic garbage collector's generations. A dashboard request allocates tens of
    thousands of objects; without the freeze each full collection it triggers walks
    the whole import graph too (measured: about a tenth of the request's time)."""
    for role in Role:
        schema_for(role)
    gc.collect()
    gc.freeze()


async def stop_background(app: Starlette) -> None:
    """Stop the feed relay and the alert scheduler (lifespan shutdown; tests that run
    the app without a lifespan call it themselves)."""
    await app.state.scheduler.stop()
    await app.state.relay.stop()
    if app.state.delivery is not None:
        await app.state.delivery.stop()
    if app.state.mailer is not None:
        await app.state.mailer.stop()


def cors(settings: Settings) -> list[Middleware]:
    """CORS for the browser portals named in ``CORS_ORIGINS`` (none: no CORS at all).

    Tokens travel in the Authorization header, never in cookies, so credentials stay
    off and the allowed origins are exact (``Settings.cors_origin_list``).
    """
    origins = settings.cors_origin_list()
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=["X-Request-Id", "WWW-Authenticate"],
            allow_credentials=False,
            max_age=600,
        )
    ]


def _live_metrics(app: Starlette) -> None:
    state = app.state
    state.metrics.gauge(
        "handoff_live_listeners", "Subscriptions and streams listening here.", state.hub.total
    )
    state.metrics.gauge(
        "handoff_live_projections_total",
        "Executions of a subscription document for a feed entry (one per audience).",
        lambda: state.hub.projections,
        "counter",
    )
    state.metrics.gauge(
        "handoff_feed_reads_total",
        "Reads of the feed by this process's relay.",
        lambda: state.relay.reads,
        "counter",
    )
    state.metrics.gauge(
        "handoff_alert_scans_total",
        "Alert scans this process ran as the leader.",
        lambda: state.scheduler.scans,
        "counter",
    )


def webhook_secrets(settings: Settings) -> SecretBox | None:
    key = settings.webhook_key()
    return SecretBox(key) if key is not None else None


def delivery_worker(settings: Settings, db: Database, clock: Clock) -> DeliveryWorker | None:
    """The webhook delivery worker as the settings configure it (``serve`` and
    ``worker``); None when webhooks are off (no WEBHOOK_SECRET_KEY in production)."""
    box = webhook_secrets(settings)
    if box is None:
        return None
    return DeliveryWorker(
        db,
        clock,
        box,
        DeliveryConfig(
            allow_private=settings.webhook_allow_private_targets,
            timeout_seconds=settings.webhook_timeout_seconds,
            concurrency=settings.webhook_concurrency,
            poll_seconds=settings.webhook_poll_seconds or 0.5,
        ),
    )


def mailer(settings: Settings, db: Database, clock: Clock) -> Mailer | None:
    """E-mail as the settings configure it; None without SMTP_URL."""
    if not settings.smtp_url:
        return None
    return Mailer(
        db,
        clock,
        SmtpConfig.from_url(settings.smtp_url, settings.smtp_from),
        public_url=settings.public_base_url(),
        poll_seconds=max(settings.webhook_poll_seconds, 1.0),
    )


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock = system_clock,
) -> Starlette:
    """Build the app. Tests pass their own database and a fixed clock."""
    settings = settings or Settings()
    database = db or connect(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    owns_db = db is None

    metrics_dir = Path(settings.metrics_dir) if settings.metrics_dir else None
    app_metrics = Metrics(directory=metrics_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        warm_up()
        flushing = asyncio.create_task(flush_metrics(app_metrics)) if metrics_dir else None
        await app.state.relay.start()
        if settings.alert_scan_seconds > 0:
            await app.state.scheduler.start()
        if settings.webhook_poll_seconds > 0 and app.state.delivery is not None:
            await app.state.delivery.start()
        if settings.webhook_poll_seconds > 0 and app.state.mailer is not None:
            await app.state.mailer.start()
        try:
            yield
        finally:
            await stop_background(app)
            # Hand frozen objects back to the collector: an app started and stopped
            # again in one process (tests, embedding) must not pin the old one forever.
            gc.unfreeze()
            if flushing is not None:
                flushing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flushing
                app_metrics.flush()
        if owns_db:
            await database.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_ws),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *tracking_routes(),
        ],
        lifespan=lifespan,
        middleware=cors(settings),
    )
    app.state.settings = settings
    app.state.db = database
    app.state.clock = clock
    app.state.verifier = TokenVerifier(settings.token_config())
    app.state.documents = DocumentCache()
    app.state.metrics = app_metrics
    relay = Relay(
        database,
        lambda org, entries: app.state.hub.dispatch(org, entries),
        poll_seconds=settings.feed_poll_seconds or (0.5 if database.is_sqlite else 5.0),
    )
    app.state.relay = relay
    app.state.hub = Hub(database, clock, watch=relay.watch, unwatch=relay.unwatch)
    app.state.scheduler = AlertScheduler(
        database,
        clock,
        interval_seconds=settings.alert_scan_seconds or 1.0,
        raised=relay.wake_all,
    )
    app.state.webhook_secrets = webhook_secrets(settings)
    app.state.delivery = delivery_worker(settings, database, clock)
    app.state.mailer = mailer(settings, database, clock)

    def committed(org: str) -> None:
        relay.wake(org)
        if app.state.delivery is not None:
            app.state.delivery.wake(org)

    app.state.committed = committed
    _live_metrics(app)
    app.state.execution_slots = asyncio.Semaphore(settings.max_concurrent_executions)
    app.state.tracking = Tracking.from_settings(
        settings, db=database, clock=clock, slots=app.state.execution_slots
    )
    app.state.limits = Limits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_directives=settings.max_directives,
        max_field_repeats=settings.max_field_repeats,
        max_cost=settings.max_query_cost,
        introspection=settings.graphiql_enabled,
    )
    app.state.graphiql_html = (
        graphiql_html(development=settings.environment == "development")
        if settings.graphiql_enabled
        else ""
    )
    return app
