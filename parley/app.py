"""create_app(settings): the ASGI application. The lifespan owns every shared resource."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx2
from fastapi import FastAPI
from openai import AsyncOpenAI, DefaultAsyncHttpxClient
from starlette.staticfiles import StaticFiles

from parley import __version__
from parley.config import Settings
from parley.conversation.persona import system_prompt
from parley.observability.logs import configure_logging
from parley.providers.base import Provider
from parley.providers.local import LocalProvider, resolve_local_model
from parley.providers.openai_compat import OpenAICompatProvider
from parley.providers.registry import ProviderRegistry
from parley.routes import brief, conversation, health
from parley.routes.errors import install_error_handlers
from parley.speech.services import SpeechServices, build_speech
from parley.storage.services import build_storage

log = logging.getLogger(__name__)


def web_root() -> Path:
    """Where the static web app lives inside the installed package."""
    return Path(str(files("parley").joinpath("web")))


def _openai_client(settings: Settings) -> AsyncOpenAI:
    timeout = httpx2.Timeout(
        connect=settings.connect_timeout,
        read=settings.total_timeout,
        write=30.0,
        pool=settings.connect_timeout,
    )
    return AsyncOpenAI(
        # Every request carries its caller's key via with_options; this placeholder only
        # keeps the SDK from reading OPENAI_API_KEY from the environment.
        api_key="parley-no-default-key",
        base_url=settings.openai_base_url,
        max_retries=0,  # Parley retries itself, within a time budget (see openai_compat)
        timeout=timeout,
        http_client=DefaultAsyncHttpxClient(
            timeout=timeout,
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=200),
        ),
    )


def _health_payload(
    settings: Settings, registry: ProviderRegistry, speech: SpeechServices, storage: Any | None
) -> dict[str, Any]:
    providers: dict[str, Any] = {
        "openai": {
            "ready": True,
            "models": list(settings.openai_model),
            "operator_key": registry.has_operator_key,
            "access_code_required": registry.needs_access_code,
        },
    }
    local = registry.get("local")
    providers["local"] = (
        {"ready": True, "model": local.default_model(), "label": "Offline model"}
        if local is not None
        else {"ready": False, "model": None, "label": "Offline model"}
    )
    return {
        "status": "ok",
        "version": __version__,
        "providers": providers,
        "speech": speech.health(),
        "storage": "server" if storage is not None else "browser",
    }


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings.log_format, settings.log_level)
    async with AsyncExitStack() as stack:
        client = _openai_client(settings)
        stack.push_async_callback(client.close)
        providers: dict[str, Provider] = {
            "openai": OpenAICompatProvider(
                client,
                models=settings.openai_model,
                first_token_timeout=settings.first_token_timeout,
                max_retries=settings.max_retries,
                retry_budget=settings.retry_budget,
            ),
        }
        local = await _load_local(settings)
        if local is not None:
            providers["local"] = local
            stack.push_async_callback(local.close)
            warm_up = asyncio.create_task(
                local.warm_up(system_prompt("sparring", small_model=True)), name="warm-up"
            )
            stack.callback(warm_up.cancel)
        registry = ProviderRegistry(
            providers,
            operator_key=_secret(settings.openai_api_key),
            access_code=_secret(settings.access_code),
        )
        app.state.registry = registry
        speech = await build_speech(settings, client)
        stack.push_async_callback(speech.aclose)
        app.state.speech = speech
        storage = await build_storage(settings)
        if storage is not None:
            stack.push_async_callback(storage.aclose)
        app.state.storage = storage
        app.state.health = _health_payload(settings, registry, speech, storage)
        log.info("parley %s ready; providers: %s", __version__, ", ".join(registry.names()))
        yield


async def _load_local(settings: Settings) -> LocalProvider | None:
    spec = resolve_local_model(settings.local_model)
    if spec is None:
        if settings.local_model == "auto":
            log.info("no offline model: install parley[local] to talk without an API key")
        return None
    return await asyncio.to_thread(
        LocalProvider.load,
        spec,
        threads=settings.local_threads,
        max_tokens=settings.local_max_tokens,
        queue_timeout=settings.local_queue_timeout,
    )


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


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
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(conversation.router)
    app.include_router(brief.router)
    app.mount("/", StaticFiles(directory=web_root(), html=True), name="web")
    return app
