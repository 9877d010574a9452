"""The application factory: every face's routes, the operations endpoints, middleware, and one exception handler
per kind of exception that renders it in the face of the route (or path) it happened on."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from faces import operations, proxy, signing_key
from faces.business import (
    enterprise_nodes,
    enterprises,
    gs1,
    identifiers,
    identity,
    prefixes,
    read_grants,
    records,
    templates,
    users,
    webhooks,
)
from faces.business.operations import router as operations_overview_router
from faces.business.render import BUSINESS
from faces.console import endpoints as console
from faces.epcis import capture, queries
from faces.epcis.render import EPCIS
from faces.federation import FEDERATION
from faces.federation import router as federation_router
from faces.gs1_resolver import routes as gs1_resolver
from faces.gs1_resolver.render import GS1_RESOLVER
from faces.handle_native.challenges import Challenges
from faces.handle_native.listener import NativeListener
from faces.handle_native.service import NativeService
from faces.handle_native.site import site_json
from faces.handle_rest import aliases, resolve, search, sessions, trust, write
from faces.handle_rest.hot_path import ROUTE as HOT_ROUTE
from faces.handle_rest.hot_path import ResolverFastPath
from faces.handle_rest.render import HANDLE
from foundation import __version__, tally
from foundation.config import Settings, get_settings
from foundation.crypto.keys import load_signing_key
from foundation.crypto.pubkeys import public_jwk
from foundation.db import Database
from foundation.errors import DomainError, HttpError, HttpNotFound, InternalError, InvalidFields
from foundation.federation import NodeRequestVerifier
from foundation.http import openapi
from foundation.http.body_limit import BodyLimitMiddleware
from foundation.http.budgets import AddressRateLimit, Budgets
from foundation.http.face import face_of
from foundation.http.request_ids import RequestIds
from foundation.logs import REQUEST_ID
from foundation.metrics import CERTIFICATES, MetricsMiddleware
from foundation.redis_client import make_redis, replicas_to_wait
from foundation.tracing import start_tracing, traced
from registry.audit.middleware import AuditMiddleware
from registry.enterprise_nodes.health import EnterpriseNodeChecker
from resolver.cache.coordinator import CacheCoordinator
from resolver.homed import HomedPrefixes
from resolver.service import Resolver
from resolver.stats import ResolutionStats
from sync.background import run_reporter
from sync.delivery.worker import run_delivery
from sync.escrow.schedule import run_escrow
from sync.homing import HomingLocator

log = logging.getLogger("secnode")

FACES = (HANDLE, EPCIS, FEDERATION, GS1_RESOLVER, console.CONSOLE, BUSINESS)
ROUTERS = (
    identity.router,
    sessions.router,
    users.router,
    enterprises.router,
    enterprise_nodes.router,  # before the prefixes': /prefixes/homed
    prefixes.router,
    gs1.router,
    templates.router,
    read_grants.router,
    webhooks.router,
    operations_overview_router,
    identifiers.router,
    records.router,
    capture.router,
    federation_router,
    queries.router,
    aliases.router,
    resolve.router,
    write.router,
    trust.router,
    search.router,
    signing_key.router,
    operations.router,
    console.router,
    gs1_resolver.router,  # /01/…, /00/…: before the proxy's catch-all
    proxy.router,
)  # the proxy's catch-all route comes last


def render_error(error: DomainError, scope: Scope) -> Response:
    """``error`` in the envelope of the face it happened on: the matched route's, else the path's (business)."""
    return face_of(scope, FACES, BUSINESS).render(error, scope)


async def start_native(app: FastAPI, settings: Settings) -> NativeListener:
    """The native Handle protocol face of this worker, on the application's resolver, database and budgets."""
    try:
        signing_key = load_signing_key(settings.node_key_file)
    except (OSError, ValueError):
        signing_key = None  # a node without a key publishes its site without one and certifies nothing
    service = NativeService(settings, app.state.db, app.state.resolver, Challenges(app.state.redis), app.state.budgets)
    app.state.native = NativeListener(service, settings)
    await app.state.native.start()
    public_key = public_jwk(signing_key) if signing_key is not None else None
    service.publish_site(site_json(settings, public_key, app.state.native.tcp_port), signing_key)
    return app.state.native


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.tls_cert:
        CERTIFICATES.watch("tls", settings.tls_cert)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_db = db is None
        app.state.db = db or Database.from_settings(settings)
        app.state.redis = make_redis(settings)
        cache = CacheCoordinator(
            app.state.db,
            app.state.redis,
            capacity=settings.cache_capacity,
            ttl_seconds=settings.cache_ttl_seconds,
            wait_replicas=replicas_to_wait(settings),
            wait_timeout_ms=settings.redis_wait_timeout_ms,
        )
        stats = ResolutionStats(app.state.db)
        locator = HomingLocator(settings.upstream_url) if settings.upstream_url else None
        homed = HomedPrefixes(app.state.db)
        app.state.resolver = Resolver(settings, cache, stats, locator, homed)
        # other nodes' signed requests (trace federation); nonces shared by the workers through Redis
        app.state.node_requests = NodeRequestVerifier(locator, redis=app.state.redis)
        app.state.db.hooks = cache
        app.state.budgets = Budgets(app.state.redis, settings)
        app.state.budgets.start()
        await cache.start()
        native = await start_native(app, settings) if settings.native_enabled else None
        stats_task = asyncio.create_task(stats.run())
        homed_task = asyncio.create_task(homed.run())
        tally_task = asyncio.create_task(tally.flush_every_second())
        # every worker runs it; one per round checks (a Redis key), all keep their metrics
        app.state.enterprise_nodes = EnterpriseNodeChecker(app.state.db, settings, app.state.redis)
        enterprise_task = asyncio.create_task(app.state.enterprise_nodes.run())
        reporter_task = (
            asyncio.create_task(run_reporter(app.state.db, settings))
            if settings.upstream_url and settings.sync_in_serve
            else None
        )
        # every worker delivers webhooks; a lease keeps each subscription with one worker at a time (ADR 0013)
        delivery_task = (
            asyncio.create_task(run_delivery(app.state.db, settings)) if settings.webhooks_in_serve else None
        )
        escrow_task = asyncio.create_task(run_escrow(app.state.db, settings)) if settings.escrow_enabled else None
        # Long-lived start-up objects leave the collector's view, and batch requests that allocate hundreds of
        # thousands of small objects trigger fewer collections (measured: -40% time parsing a 2000-item batch).
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        try:
            yield
        finally:
            if native is not None:
                await native.stop()
            stats_task.cancel()
            homed_task.cancel()
            tally_task.cancel()
            enterprise_task.cancel()
            await asyncio.wait([enterprise_task], timeout=5)  # a round in a transaction ends before the pool closes
            if reporter_task is not None:
                reporter_task.cancel()
                await asyncio.wait([reporter_task], timeout=5)
            if delivery_task is not None:  # an outcome being recorded ends before the pool closes
                delivery_task.cancel()
                await asyncio.wait([delivery_task], timeout=5)
            if escrow_task is not None:
                escrow_task.cancel()
                await asyncio.wait([escrow_task], timeout=5)
            await stats.flush()
            await app.state.budgets.stop()
            await cache.stop()
            await app.state.resolver.aclose()
            if locator is not None:
                await locator.aclose()
            app.state.db.hooks = None
            if app.state.redis is not None:
                await app.state.redis.aclose()
            if own_db:
                await app.state.db.dispose()

    app = FastAPI(
        title="secnode",
        version=__version__,
        lifespan=lifespan,
        description="Industrial internet identifier resolution secondary node: Handle REST (v9 "
        "compatible) and SNMS-style business API.",
        # The node makes its own request spans (foundation/tracing.py), around the hot path as well.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.render_error = render_error  # for the layers in front of the application (rate limit)
    openapi.install(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return render_error(InvalidFields(problems), request.scope)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error = HttpNotFound(str(exc.detail)) if exc.status_code == 404 else HttpError(exc.status_code, str(exc.detail))
        response = render_error(error, request.scope)
        response.status_code = exc.status_code
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return render_error(exc, request.scope)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("secnode.request.failed path=%s", request.url.path)
        response = render_error(InternalError(), request.scope)
        # answered outside the middleware (Starlette's server-error layer): the id is added here
        response.headers["x-request-id"] = REQUEST_ID.get()
        return response

    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, render=render_error)
    app.add_middleware(AuditMiddleware, render=render_error)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIds, access_log=settings.access_log)  # outermost: every answer gets its id
    return app


def create_asgi(settings: Settings | None = None) -> ASGIApp:
    """What the server runs: the application behind the resolver's raw ASGI hot path, both behind the per-address
    rate limit and, when tracing is on (``OTEL_*``), inside a span per request."""
    settings = settings or get_settings()
    tracing = start_tracing()
    app = create_app(settings)
    served = AddressRateLimit(ResolverFastPath(app), app)
    return traced(served, (HOT_ROUTE, "/api/handles/{handle}")) if tracing else served
