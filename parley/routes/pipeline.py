"""Every model-backed route's one entry: admit → run the turn → keep it → respond.

Routes parse their body and build a `TurnPlan`; `Turns.start` does the rest. The stream
slot is held by the turn's own generator, so it is released in one place however the turn
ends: finished, failed, or abandoned by a client that hung up.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing, nullcontext
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Response

from parley.conversation.turn import Done, TurnEvent, TurnLimits, run_turn
from parley.deps import ClientDep, GoneDep, PersonDep, RecordDep, ServicesDep
from parley.observability.requests import RequestRecord
from parley.providers.base import ChatRequest
from parley.providers.registry import Choice
from parley.routes.schemas import TurnOut
from parley.routes.streaming import respond
from parley.security.admission import Admission
from parley.security.local_jobs import Gone, LocalJobs
from parley.storage.turns import Keep, kept

TURN_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The reply as JSON, or as SSE events (`delta`, `sentence`, then "
        "`done` or `error`) when streaming was asked for.",
        "model": TurnOut,
        "content": {"text/event-stream": {}},
    },
}


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """One model call a route wants answered."""

    choice: Choice
    chat: ChatRequest
    stream: bool
    # Sentences for the voice; a brief is read, not spoken.
    speak: bool = True
    keep: Keep | None = None


class Turns:
    """Runs planned turns for one request."""

    def __init__(
        self, admission: Admission, jobs: LocalJobs, limits: TurnLimits, client: str,
        person: str, gone: Gone, record: RequestRecord,
    ) -> None:
        self._admission = admission
        self._jobs = jobs
        self._limits = limits
        self._client = client
        self._person = person
        self._gone = gone
        self._record = record

    async def admit(self, choice: Choice) -> None:
        """The rate limits for one request to `choice`'s provider (429 when over)."""
        self._record.provider_attempted = choice.provider.name
        operator = choice.key_source == "operator"
        await self._admission.check(
            self._client, choice.api_key, operator_person=self._person if operator else None
        )

    async def start(self, plan: TurnPlan) -> Response:
        """Admit the turn (rate limits), run it, keep it, and answer as JSON or SSE."""
        await self.admit(plan.choice)
        return await respond(
            self._events(plan), stream=plan.stream, record=self._record, gone=self._gone
        )

    async def answer(self, plan: TurnPlan) -> str:
        """Run an admitted turn to its end and return its text, for a route that reads it."""
        async with aclosing(self._events(plan)) as events:
            async for event in events:
                if isinstance(event, Done):
                    self._record.provider = event.provider
                    self._record.model = event.model
                    return event.reply
        raise AssertionError("run_turn always ends with Done")  # pragma: no cover

    async def _events(self, plan: TurnPlan) -> AsyncGenerator[TurnEvent, None]:
        provider = plan.choice.provider
        # The offline model is shared by everyone: one turn at a time per client.
        local = (
            self._jobs.slot(self._client, "chat", self._gone, wait=self._limits.queue_seconds)
            if not provider.needs_key else nullcontext()
        )
        with self._admission.stream_slot():
            async with local:
                events = run_turn(provider, plan.chat, self._limits, speak=plan.speak)
                if plan.keep is not None:
                    events = kept(events, plan.keep)
                async with aclosing(events):
                    async for event in events:
                        yield event


async def get_turns(
    services: ServicesDep, client: ClientDep, person: PersonDep, gone: GoneDep,
    record: RecordDep,
) -> Turns:
    settings = services.settings
    limits = TurnLimits(
        total_seconds=settings.turn_seconds, queue_seconds=settings.local_queue_timeout
    )
    return Turns(services.admission, services.jobs, limits, client, person, gone, record)


TurnsDep = Annotated[Turns, Depends(get_turns)]
