"""The application factory: one FastAPI app serving the store's REST API."""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from shopops import __version__
from shopops.api.errors import install_error_handlers
from shopops.api.microcache import StorefrontCache, StorefrontCacheMiddleware
from shopops.api.ratelimit import RateLimitMiddleware, TokenBuckets
from shopops.api.telemetry import Telemetry, TelemetryMiddleware
from shopops.api.telemetry import router as telemetry_router
from shopops.config import Settings, get_settings
from shopops.db import make_engine

# Each domain's `api.router`, in the order they appear in the OpenAPI document.
DOMAIN_ROUTERS = (
    "accounts",
    "catalog",
    "inventory",
    "members",
    "orders",
    "payments",
    "fulfillment",
    "aftersales",
    "reviews",
    "promotions",
    "pricing",
    "tracking",
    "analytics",
    "analytics.analyses",
    "ops.alerts",
    "ops.goals",
    "purchasing",
)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Swagger UI and ReDoc assets come from the installed fastapi-offline package: no CDN.
    app = FastAPIOffline(
        title="shopops",
        version=__version__,
        description="Operations platform for online stores: the store's REST API.",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url)
    app.state.telemetry = Telemetry()
    # Middleware added first runs innermost: telemetry sees everything, the rate limit applies
    # to cache hits too, and a hit never reaches routing.
    app.state.storefront_cache = StorefrontCache(settings.storefront_cache_seconds)
    app.add_middleware(StorefrontCacheMiddleware, cache=app.state.storefront_cache)
    if settings.rate_limit_per_minute:
        buckets = TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        app.add_middleware(RateLimitMiddleware, buckets=buckets)
    app.add_middleware(TelemetryMiddleware, telemetry=app.state.telemetry)
    install_error_handlers(app)
    app.include_router(telemetry_router)
    for name in DOMAIN_ROUTERS:
        module = importlib.import_module(f"shopops.{name}.api")
        app.include_router(module.router)
    # The web console (server-rendered pages at /console, shopops.web).
    from shopops.web.app import install_console

    install_console(app)
    return app
