"""create_app(settings): the ASGI application. The lifespan owns every shared resource."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from parley import __version__
from parley.config import Settings
from parley.observability.components import Components
from parley.observability.logs import configure_logging
from parley.observability.probes import Probe, watch
from parley.observability.requests import RequestLogMiddleware
from parley.providers.setup import build_registry, load_composer, openai_client
from parley.routes import (
    brief,
    conversation,
    health,
    history_off,
    listen,
    metrics,
    realtime,
    speech,
    transcribe,
)
from parley.routes.errors import install_error_handlers
from parley.routes.openapi import install_openapi
from parley.routes.web import WebApp
from parley.security.access import AccessGuard
from parley.security.admission import Admission
from parley.security.body_limit import BodyLimitMiddleware
from parley.security.headers import (
    HttpsRedirectMiddleware,
    SecurityHeadersMiddleware,
    content_security_policy,
)
from parley.security.local_jobs import LocalJobs
from parley.security.origins import HostOriginMiddleware
from parley.security.payer import KeyRule
from parley.security.streams import StreamSlots
from parley.services import Services

log = logging.getLogger(__name__)


def web_root() -> Path:
    """Where the static web app lives inside the installed package."""
    return Path(str(files("parley").joinpath("web")))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Libraries that only the running server needs (the OpenAI SDK, speech engines, the
    # database layer, rate-limit storage, Sentry) are imported here, not at module level:
    # creating the app stays fast, which is what a serverless cold start pays for.
    from parley.security.ratelimit import RateLimiter
    from parley.speech.services import build_speech
    from parley.storage.services import build_storage

    settings: Settings = app.state.settings
    configure_logging(settings.log_format, settings.log_level)
    if settings.sentry_dsn is not None:
        from parley.observability.sentry import init_sentry

        init_sentry(settings.sentry_dsn.get_secret_value())
    async with AsyncExitStack() as stack:
        client = openai_client(settings)
        stack.push_async_callback(client.close)
        keys = KeyRule(
            operator_key=_secret(settings.openai_api_key),
            access_code=_secret(settings.access_code),
        )
        composer = await asyncio.to_thread(load_composer)
        registry = await build_registry(settings, client, keys, stack, composer)
        metrics = app.state.metrics
        components = Components(
            [name for name, url in (("database", settings.database_url),
                                    ("redis", settings.redis_url)) if url is not None],
            metrics,
        )
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        limiter = RateLimiter.from_settings(
            redis_url,
            per_client=settings.rate_limit_per_client,
            per_key=settings.rate_limit_per_key,
            per_person=settings.rate_limit_per_person,
            components=components,
        )
        stack.push_async_callback(limiter.aclose)
        speech_services = await build_speech(settings, client)
        stack.push_async_callback(speech_services.aclose)
        storage = await build_storage(settings, components)
        if storage is not None:
            stack.push_async_callback(storage.aclose)
        app.state.services = Services(
            settings=settings,
            openai=client,
            keys=keys,
            access=AccessGuard(keys, limiter, metrics),
            registry=registry,
            admission=Admission(
                limiter, StreamSlots(settings.max_concurrent_streams), metrics
            ),
            jobs=LocalJobs(),
            components=components,
            speech=speech_services,
            storage=storage,
            metrics=metrics,
            composer=composer,
            health=health.health_payload(
                settings, registry, speech_services.health(), storage is not None
            ),
        )
        probes: list[Probe] = [limiter.ping] if settings.redis_url is not None else []
        if storage is not None:
            probes.append(storage.ping)
        if probes:
            watcher = asyncio.create_task(watch(probes), name="dependency-probes")
            # Stopped (and waited for) before the stores it probes close.
            stack.push_async_callback(_stop, watcher)
        log.info("parley %s ready; providers: %s", __version__, ", ".join(registry.names()))
        # Everything loaded so far lives as long as the process: move it out of the garbage
        # collector's sight, so a full collection does not pause a turn for tens of ms.
        gc.collect()
        gc.freeze()
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Parley app. With no settings, they are read from the environment."""
    settings = settings or Settings()
    app = FastAPI(
        title="Parley",
        version=__version__,
        summary="A voice sparring partner for product designers.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.metrics = None
    if settings.metrics_enabled:
        from parley.observability.metrics import Metrics

        app.state.metrics = Metrics()
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(conversation.router)
    app.include_router(brief.router)
    app.include_router(transcribe.router)
    app.include_router(listen.router)
    app.include_router(speech.router)
    app.include_router(realtime.router)
    if settings.database_url is not None:
        from parley.routes import projects, sessions

        app.include_router(sessions.router)
        app.include_router(projects.router)
    else:
        app.include_router(history_off.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    app.mount("/", WebApp(directory=web_root(), html=True), name="web")
    _add_middleware(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Added innermost first: the last one added sees the request first.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        audio_bytes=settings.max_audio_bytes,
        image_bytes=settings.max_image_body_bytes,
    )
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "authorization", "content-type", "accept", "x-request-id",
                "x-parley-access-code", "x-parley-device",
            ],
            expose_headers=["x-request-id", "retry-after"],
            allow_credentials=False,
            max_age=600,
        )
    if settings.https_redirect:
        app.add_middleware(HttpsRedirectMiddleware)
    app.add_middleware(
        HostOriginMiddleware, hosts=settings.hosts, allowed_origins=settings.allowed_origins
    )
    app.add_middleware(
        SecurityHeadersMiddleware, csp=content_security_policy(settings.openai_base_url)
    )
    app.add_middleware(RequestLogMiddleware, metrics=app.state.metrics)
    if settings.trusted_proxies:
        # X-Forwarded-For/-Proto are believed only from these addresses.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
