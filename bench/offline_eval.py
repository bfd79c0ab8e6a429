"""The offline evaluation: 90 designer prompts, answered with no key, scored by one rubric.

Prints, for the prompts written with the library (`offline_eval.json`) and a held-out set
written afterwards without looking at its keywords (`offline_eval_heldout.json`):
- top-1 retrieval accuracy (goal >= 85 %) and its cost per turn (goal < 5 ms);
- the share of answers passing the rubric (goal >= 90 %) for the design notes, the notes
  reworded by the small model under the guard, and the bare model as it answered before;
- how often the guard accepted the model's rewording;
- first sentence and whole answer through a live Parley's SSE (goals 300 ms and 1.5 s).
Run with `make bench` (or `python -m bench.offline_eval`).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.harness import parley
from parley.conversation.persona import system_prompt
from parley.knowledge.compose import Composer
from parley.knowledge.library import Library, load_library
from parley.knowledge.retrieval import Retriever
from parley.providers.base import ChatRequest, Message, ModelInfo, TextDelta
from parley.providers.grounded import NOTES_MODEL, GroundedProvider
from parley.providers.local import LocalProvider, resolve_local_model
from tests.knowledge.rubric import EVAL_FILES, Prompt, problems, prompts


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def passing(
    answers: Sequence[str], cases: Sequence[Prompt], library: Library,
    words: Callable[[str], list[str]],
) -> float:
    good = sum(
        not problems(a, c, topic_lines=library.topic(c.topic).lines(), words=words)
        for a, c in zip(answers, cases, strict=True)
    )
    return good / len(cases)


async def grounded_answers(
    provider: GroundedProvider, cases: Sequence[Prompt]
) -> tuple[list[str], int]:
    """Each case answered by the provider; how many were the model's (accepted) rewording."""
    answers, reworded = [], 0
    for case in cases:
        request = ChatRequest(messages=(Message("user", case.prompt),), mode=case.mode)
        text = ""
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                text += event.text
            elif isinstance(event, ModelInfo) and event.model != NOTES_MODEL:
                reworded += 1
        answers.append(text)
    return answers, reworded


async def bare_answers(model: LocalProvider, cases: Sequence[Prompt]) -> list[str]:
    """What SmolLM2 answered with the persona alone, before the notes."""
    answers = []
    for case in cases:
        request = ChatRequest(messages=(
            Message("system", system_prompt(case.mode, small_model=True)),  # type: ignore[arg-type]
            Message("user", case.prompt),
        ))
        answers.append("".join([e.text async for e in model.stream(request)
                                if isinstance(e, TextDelta)]))
    return answers


async def through_parley(cases: Sequence[Prompt]) -> tuple[list[float], list[float]]:
    """Time to the first `sentence` event and to `done`, per turn, over loopback HTTP."""
    first, whole = [], []
    with parley({"PARLEY_LOCAL_MODEL": "auto"}, "offline-eval") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            for case in cases:
                body: dict[str, Any] = {"message": case.prompt, "mode": case.mode,
                                        "stream": True}
                start = time.perf_counter()
                seen_sentence = False
                async with http.stream("POST", "/api/conversation", json=body) as response:
                    async for line in response.aiter_lines():
                        if line == "event: sentence" and not seen_sentence:
                            seen_sentence = True
                            first.append((time.perf_counter() - start) * 1000)
                        elif line == "event: done":
                            whole.append((time.perf_counter() - start) * 1000)
    return first, whole


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run() -> None:
    library = load_library()
    retriever = Retriever(library)
    composer = Composer(retriever)
    cases = prompts()
    print("Offline evaluation: 90 designer prompts, no key (SmolLM2-135M on 2 cores)")
    print(f"{'prompts':<28}{'top-1 retrieval':>16}{'notes':>8}{'reworded':>10}{'bare':>8}")
    spec = resolve_local_model("auto")
    model = LocalProvider.load(spec, threads=0, max_tokens=160, queue_timeout=60) \
        if spec is not None else None
    for name in EVAL_FILES:
        subset = [c for c in cases if c.file == name]
        hits = sum(1 for c in subset if (m := retriever.search(c.prompt)) and
                   m[0].topic.id == c.topic)
        notes, _ = await grounded_answers(GroundedProvider(composer, None), subset)
        row = (f"{name:<28}{hits / len(subset):>15.0%}"
               f"{passing(notes, subset, library, retriever.words):>8.0%}")
        if model is not None:
            reworded, accepted = await grounded_answers(
                GroundedProvider(composer, model, rephrase=True), subset
            )
            bare = await bare_answers(model, subset)
            sparring = sum(1 for c in subset if c.mode == "sparring")
            row += (f"{passing(reworded, subset, library, retriever.words):>10.0%}"
                    f"{passing(bare, subset, library, retriever.words):>8.0%}"
                    f"   rewording accepted {accepted}/{sparring}")
        print(row)
    timing = [time.perf_counter()]
    for case in cases:
        retriever.search(case.prompt)
    timing.append(time.perf_counter())
    per_turn = (timing[1] - timing[0]) * 1000 / len(cases)
    print(f"retrieval: {per_turn:.2f} ms a turn (goal < 5 ms: {mark(per_turn < 5)})")
    if model is not None:
        await model.close()
        first, whole = await through_parley(cases)
        print(f"through Parley (SSE): first sentence p50 {statistics.median(first):.0f} ms, "
              f"p95 {p95(first):.0f} ms (goal 300 ms: {mark(p95(first) <= 300)}); "
              f"whole answer p50 {statistics.median(whole):.0f} ms, p95 {p95(whole):.0f} ms "
              f"(goal 1.5 s: {mark(p95(whole) <= 1500)})")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
