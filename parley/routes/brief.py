"""POST /api/brief: a conversation becomes a Markdown design brief; POST /api/brief/update: the
living brief after the latest turns."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.brief.extract import extract
from parley.brief.schema import MAX_BYTES, output_schema
from parley.brief.update import Rejected, accept, fold, update_messages
from parley.config import Settings
from parley.conversation.history import checked_history, transcript
from parley.conversation.persona import brief_prompt
from parley.deps import (
    AccessDep,
    BearerKeyDep,
    ComposerDep,
    RegistryDep,
    SettingsDep,
    person_key,
)
from parley.providers.base import ChatRequest, Message, OutputSchema, Provider
from parley.routes.pipeline import TURN_RESPONSES, TurnPlan, TurnsDep
from parley.routes.schemas import BriefIn, BriefUpdateIn, BriefUpdateOut
from parley.routes.streaming import wants_stream

router = APIRouter()
log = logging.getLogger(__name__)

# What the offline update is, named in its answer: rules over the words, not a model.
RULES_MODEL = "parley-brief-rules"
# A model's update is asked for once more when it is unusable, then the old brief stands.
UPDATE_ATTEMPTS = 2

# The most recent pictures a brief looks at (the contract's cap for one request).
BRIEF_PICTURES = 8


async def screens(
    history: list[Message], provider: Provider, model: str, settings: Settings
) -> tuple[str, ...]:
    """The conversation's latest pictures, re-encoded, when the model can see them.

    A model that can't see still writes the brief from the words ("[showed 1 picture]").
    """
    if not provider.needs_key or model not in settings.vision_models:
        return ()
    lists: list[list[str]] = []  # the latest turns' pictures, newest first, as sent
    for turn in reversed(history):
        room = BRIEF_PICTURES - sum(map(len, lists))
        if turn.images and room > 0:
            lists.append(list(turn.images)[:room])
    if not lists:
        return ()
    from parley.images import prepare_request  # Pillow only when there are pictures

    prepared = await prepare_request(lists)
    return tuple(image.data_url for batch in reversed(prepared) for image in batch)


@router.post("/api/brief", responses=TURN_RESPONSES, response_model=None)
async def brief(
    access: AccessDep,
    body: BriefIn,
    request: Request,
    settings: SettingsDep,
    registry: RegistryDep,
    turns: TurnsDep,
    bearer: BearerKeyDep,
) -> Response:
    """Write a design brief (problem, audience, constraints, ideas, questions, next steps)."""
    history = checked_history(
        body.history,
        max_messages=settings.max_history_messages,
        max_message_chars=settings.max_message_chars,
    )
    if not any(turn.role == "user" and turn.content.strip() for turn in history):
        raise errors.InvalidRequest(
            "There is nothing to brief yet. Talk the problem through first, then make a brief."
        )
    choice = registry.choose(body.provider, person_key(body.api_key, bearer), access)
    provider = choice.provider
    budget = min(settings.history_budget_chars, provider.max_prompt_chars or 1 << 30)
    conversation = transcript(history, budget_chars=budget - len(brief_prompt()) - 100)
    model = provider.resolve_model(body.model)
    shown = await screens(history, provider, model, settings)
    chat = ChatRequest(
        messages=(
            Message("system", brief_prompt()),
            Message("user", f"Here is the conversation:\n\n{conversation}\n\nWrite the brief.",
                    shown),
        ),
        model=model,
        api_key=choice.api_key,
        max_tokens=settings.brief_max_tokens,
        task="brief",
    )
    stream = wants_stream(request, body.stream)
    return await turns.start(TurnPlan(choice, chat, stream=stream, speak=False))


@router.post(
    "/api/brief/update",
    response_model=BriefUpdateOut,
    responses={502: {"description": "`brief_unavailable`: the old brief stands."}},
)
async def update_brief(
    access: AccessDep,
    body: BriefUpdateIn,
    settings: SettingsDep,
    registry: RegistryDep,
    turns: TurnsDep,
    bearer: BearerKeyDep,
    composer: ComposerDep,
) -> BriefUpdateOut:
    """The living brief after the latest turns; every earlier item kept unless retracted."""
    if body.brief.size() > MAX_BYTES:
        raise errors.PayloadTooLarge(
            f"That brief is over {MAX_BYTES // 1024} KB. Remove some items, or start a new "
            "project for the next part of the work."
        )
    history = checked_history(
        body.history,
        max_messages=settings.max_history_messages,
        max_message_chars=settings.max_message_chars,
    )
    said = [(turn.role, turn.content) for turn in history]
    since = min(body.since, len(said))
    choice = registry.choose(body.provider, person_key(body.api_key, bearer), access)
    provider = choice.provider
    await turns.admit(choice)
    if not provider.needs_key:
        # Offline: the rules read the new turns in microseconds; the small model can't.
        topic = None
        if composer is not None:
            matches = composer.retriever.search(" ".join(t for r, t in said if r == "user"))
            topic = matches[0].topic.title if matches else None
        brief = fold(body.brief, extract(said, since), topic=topic)
        return BriefUpdateOut(brief=brief.wire(), provider=provider.name, model=RULES_MODEL)
    budget = min(settings.history_budget_chars, provider.max_prompt_chars or 1 << 30)
    chat = ChatRequest(
        messages=update_messages(body.brief, said, since, budget_chars=budget),
        model=provider.resolve_model(body.model),
        api_key=choice.api_key,
        max_tokens=settings.brief_max_tokens,
        task="brief_update",
        mode=body.mode,
        output=OutputSchema("brief", output_schema()),
    )
    plan = TurnPlan(choice, chat, stream=False, speak=False)
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        answer = await turns.answer(plan)
        try:
            brief = accept(body.brief, answer, len(said))
        except Rejected as exc:
            log.warning("brief update rejected (attempt %d): %s", attempt, exc)
            continue
        return BriefUpdateOut(brief=brief.wire(), provider=provider.name, model=chat.model or "")
    raise errors.BriefUnavailable()
