"""POST /api/brief: a conversation becomes a Markdown design brief."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.conversation.history import checked_history, transcript
from parley.conversation.persona import brief_prompt
from parley.deps import AccessDep, BearerKeyDep, RegistryDep, SettingsDep, person_key
from parley.providers.base import ChatRequest, Message
from parley.routes.pipeline import TURN_RESPONSES, TurnPlan, TurnsDep
from parley.routes.schemas import BriefIn
from parley.routes.streaming import wants_stream

router = APIRouter()


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
    chat = ChatRequest(
        messages=(
            Message("system", brief_prompt()),
            Message("user", f"Here is the conversation:\n\n{conversation}\n\nWrite the brief."),
        ),
        model=provider.resolve_model(body.model),
        api_key=choice.api_key,
        max_tokens=settings.brief_max_tokens,
        task="brief",
    )
    stream = wants_stream(request, body.stream)
    return await turns.start(TurnPlan(choice, chat, stream=stream, speak=False))
