"""Offline model speed: tokens/s and time to first token, raw llama.cpp beside Parley's endpoint.

Run with `make bench` (or `python -m bench.local_model`). Both paths use the same GGUF
file, the same sampling settings and the same prompts, one after the other in one process.
Offline conversation turns come from the design notes (bench/offline_eval.py measures them);
the model itself writes briefs, so that is the endpoint measured here.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.harness import parley
from parley.conversation.history import transcript
from parley.conversation.persona import brief_prompt
from parley.providers.base import Message
from parley.providers.local import REPEAT_PENALTY, TEMPERATURE, resolve_local_model

QUESTIONS = [
    "How do I make onboarding less overwhelming?",
    "Our checkout has five steps. Where would you cut?",
    "How should an empty state look for a new notes app?",
    "What should I test first in a sign-up flow?",
    "How do I present a risky redesign to stakeholders?",
    "Name ideas for a budgeting app for students.",
]
MAX_TOKENS = 160


@dataclass
class Run:
    first_token_ms: float
    tokens: int
    tokens_per_s: float

    @classmethod
    def of(cls, start: float, stamps: list[float]) -> Run:
        """A turn from its start and the time each token arrived (two or more)."""
        return cls((stamps[0] - start) * 1000, len(stamps),
                   (len(stamps) - 1) / (stamps[-1] - stamps[0]))


def _summary(runs: list[Run]) -> tuple[float, float, float]:
    return (
        statistics.median(r.first_token_ms for r in runs),
        statistics.median(r.tokens_per_s for r in runs),
        statistics.mean(r.tokens for r in runs),
    )


def brief_request(question: str) -> str:
    """What the brief route sends the model for a one-turn conversation."""
    conversation = transcript([Message("user", question)], budget_chars=10_000)
    return f"Here is the conversation:\n\n{conversation}\n\nWrite the brief."


def raw_llama(rounds: int) -> list[Run]:
    """llama_cpp directly, as a baseline."""
    from llama_cpp import Llama

    spec = resolve_local_model("auto")
    assert spec is not None, "install parley[local] first"
    threads = os.cpu_count() or 1  # what Parley uses by default
    llama = Llama(model_path=str(spec.path), n_ctx=4096, n_threads=threads,
                  n_threads_batch=threads, verbose=False)
    runs: list[Run] = []
    for i in range(rounds + 1):
        messages: list[Any] = [
            {"role": "system", "content": brief_prompt()},
            {"role": "user", "content": brief_request(QUESTIONS[i % len(QUESTIONS)])},
        ]
        start = time.perf_counter()
        stamps: list[float] = []
        chunk: Any
        for chunk in llama.create_chat_completion(
            messages=messages, stream=True, temperature=TEMPERATURE,
            repeat_penalty=REPEAT_PENALTY, max_tokens=MAX_TOKENS,
        ):
            if chunk["choices"][0]["delta"].get("content"):
                stamps.append(time.perf_counter())
        if i and len(stamps) > 1:  # the first round warms the system-prompt cache
            runs.append(Run.of(start, stamps))
    llama.close()
    return runs


async def through_parley(rounds: int) -> list[Run]:
    """The same model through POST /api/brief (SSE), over loopback HTTP.

    Parley runs as its own process, as in production, so the load generator does not
    share its interpreter (and GIL) with the server.
    """
    env = {"PARLEY_LOCAL_MODEL": "auto", "PARLEY_BRIEF_MAX_TOKENS": str(MAX_TOKENS)}
    runs: list[Run] = []
    with parley(env, "local") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            for i in range(rounds + 1):
                question = QUESTIONS[i % len(QUESTIONS)]
                body = {"history": [{"role": "user", "content": question}], "stream": True}
                start = time.perf_counter()
                stamps: list[float] = []
                async with http.stream("POST", "/api/brief", json=body) as response:
                    async for line in response.aiter_lines():
                        if line == "event: delta":
                            stamps.append(time.perf_counter())
                if i and len(stamps) > 1:
                    runs.append(Run.of(start, stamps))
    return runs


def main(rounds: int = 5) -> None:
    raw = raw_llama(rounds)
    through = asyncio.run(through_parley(rounds))
    raw_ft, raw_tps, raw_n = _summary(raw)
    p_ft, p_tps, p_n = _summary(through)
    print("Offline model (SmolLM2-135M-Instruct Q4_1), median of", rounds, "turns")
    print(f"{'path':<24}{'first token':>14}{'tokens/s':>12}{'tokens':>9}")
    print(f"{'raw llama_cpp':<24}{raw_ft:>11.0f} ms{raw_tps:>12.1f}{raw_n:>9.0f}")
    print(f"{'Parley /api/brief':<24}{p_ft:>11.0f} ms{p_tps:>12.1f}{p_n:>9.0f}")
    print(f"ratio tokens/s Parley/raw: {p_tps / raw_tps:.3f}  (goal >= 0.95)")
    print(f"first token through Parley: {p_ft:.0f} ms  (goal < 250 ms)")


if __name__ == "__main__":
    main()
