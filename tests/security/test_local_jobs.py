"""The offline engines: one job per client at a time, and a waiting job dropped when its
client hangs up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
import pytest

from parley import errors
from parley.security.local_jobs import ClientGone, LocalJobs, unless_gone
from tests.fakes.background import poll_async
from tests.live import LiveServer
from tests.sse import events


async def never() -> None:
    await asyncio.Event().wait()


async def test_one_client_waits_for_its_own_last_job_others_do_not() -> None:
    jobs = LocalJobs()
    order: list[str] = []

    async def job(client: str, name: str, hold: asyncio.Event) -> None:
        async with jobs.slot(client, "chat", never):
            order.append(f"{name} starts")
            await hold.wait()
            order.append(f"{name} ends")

    hold_a1, hold_a2, hold_b = asyncio.Event(), asyncio.Event(), asyncio.Event()
    a1 = asyncio.create_task(job("a", "a1", hold_a1))
    a2 = asyncio.create_task(job("a", "a2", hold_a2))
    b = asyncio.create_task(job("b", "b", hold_b))
    assert await poll_async(lambda: len(order) == 2, 2)
    assert order == ["a1 starts", "b starts"]  # a2 waits behind a1; b does not
    assert jobs.waiting("a", "chat") == 1
    hold_a1.set()
    assert await poll_async(lambda: "a2 starts" in order, 2)
    assert order.index("a1 ends") < order.index("a2 starts")
    hold_a2.set()
    hold_b.set()
    await asyncio.gather(a1, a2, b)


async def test_a_job_waiting_when_its_client_leaves_is_dropped() -> None:
    jobs = LocalJobs()
    left = asyncio.Event()
    release = asyncio.Event()

    async def running() -> None:
        async with jobs.slot("a", "stt", never):
            await release.wait()

    first = asyncio.create_task(running())
    await poll_async(lambda: jobs.waiting("a", "stt") == 0, 1)
    ran = False

    async def waiting() -> None:
        nonlocal ran
        async with jobs.slot("a", "stt", left.wait):
            ran = True

    second = asyncio.create_task(waiting())
    assert await poll_async(lambda: jobs.waiting("a", "stt") == 1, 2)
    left.set()
    with pytest.raises(ClientGone):
        await second
    assert not ran and jobs.waiting("a", "stt") == 0
    release.set()
    await first
    # Nothing was left held: the next job runs at once.
    async with asyncio.timeout(1), jobs.slot("a", "stt", never):
        pass


async def test_waiting_too_long_or_too_many_is_model_busy() -> None:
    jobs = LocalJobs()
    release = asyncio.Event()

    async def running() -> None:
        async with jobs.slot("a", "tts", never):
            await release.wait()

    first = asyncio.create_task(running())
    await asyncio.sleep(0)
    with pytest.raises(errors.ModelBusy):
        async with jobs.slot("a", "tts", never, wait=0.05):
            pass
    queued = [asyncio.create_task(running()) for _ in range(3)]
    assert await poll_async(lambda: jobs.waiting("a", "tts") == 3, 2)
    with pytest.raises(errors.ModelBusy):
        async with jobs.slot("a", "tts", never):
            pass
    release.set()
    await asyncio.gather(first, *queued)


async def test_unless_gone_cancels_work_the_client_left() -> None:
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    left = asyncio.Event()
    left.set()
    with pytest.raises(ClientGone):
        await unless_gone(work(), left.wait)
    assert cancelled.is_set()

    async def quick() -> str:
        return "done"

    assert await unless_gone(quick(), never) == "done"


@pytest.mark.local_model
async def test_a_waiting_turn_is_dropped_when_its_client_hangs_up(
    serve: Callable[..., LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "parley.request")
    server = serve(local_model="auto", local_queue_timeout=60, brief_max_tokens=2000)
    jobs = server.app.state.services.jobs
    # The model writes briefs (turns come from the design notes): a long one keeps it busy.
    story = {"history": [{"role": "user", "content": "Tell me a very long story."}],
             "stream": True}
    short = {"history": [{"role": "user", "content": "Hi."}]}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        async with http.stream("POST", "/api/brief", json=story) as first:
            reader = events(first)  # kept referenced: a collected reader closes the stream
            async for name, _ in reader:
                if name == "delta":
                    break  # the model is busy with this person's turn
            second = asyncio.create_task(http.post("/api/brief", json=short))
            assert await poll_async(lambda: jobs.waiting("127.0.0.1", "chat") == 1, 10)
            second.cancel()  # the person hangs up on the waiting turn
            assert await poll_async(lambda: jobs.waiting("127.0.0.1", "chat") == 0, 10)
            assert await poll_async(
                lambda: any(getattr(r, "error_code", None) == "client_closed_request"
                            for r in caplog.records), 10)
            await reader.aclose()
    # The dropped request never reached the model: only the first was answered by it.
    served = [r for r in caplog.records if getattr(r, "provider", None) == "local"]
    assert len(served) <= 1
