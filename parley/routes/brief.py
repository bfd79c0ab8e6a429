"""POST /api/brief: a conversation becomes a Markdown design brief."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.config import Settings
from parley.conversation.history import checked_history, transcript
from parley.conversation.persona import brief_prompt
from parley.deps import AccessDep, BearerKeyDep, RegistryDep, SettingsDep, person_key
from parley.providers.base import ChatRequest, Message, Provider
from parley.routes.pipeline import TURN_RESPONSES, TurnPlan, TurnsDep
from parley.routes.schemas import BriefIn
from parley.routes.streaming import wants_stream

router = APIRouter()

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
