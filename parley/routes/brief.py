"""POST /api/brief: a conversation becomes a Markdown design brief."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.conversation.history import transcript
from parley.conversation.persona import brief_prompt
from parley.conversation.turn import TurnLimits, run_turn
from parley.deps import AccessCodeDep, BearerKeyDep, RegistryDep, SettingsDep, person_key
from parley.providers.base import ChatRequest, Message
from parley.routes.conversation import TURN_RESPONSES, check_history
from parley.routes.schemas import BriefIn
from parley.routes.streaming import respond, wants_stream
from parley.security.admission import admit

router = APIRouter()

# Room for six short sections, for models that honour a length cap (the local model).
BRIEF_MAX_TOKENS = 700


@router.post("/api/brief", responses=TURN_RESPONSES, response_model=None)
async def brief(
    body: BriefIn,
    request: Request,
    settings: SettingsDep,
    registry: RegistryDep,
    bearer: BearerKeyDep,
    code: AccessCodeDep,
) -> Response:
    """Write a design brief (problem, audience, constraints, ideas, questions, next steps)."""
    history = check_history(body.history, settings)
    if not any(turn.role == "user" and turn.content.strip() for turn in history):
        raise errors.InvalidRequest(
            "There is nothing to brief yet. Talk the problem through first, then make a brief."
        )
    choice = registry.choose(body.provider, person_key(body.api_key, bearer), code)
    provider = choice.provider
    request.state.provider_attempted = provider.name
    budget = min(settings.history_budget_chars, provider.max_prompt_chars or 1 << 30)
    conversation = transcript(history, budget_chars=budget - len(brief_prompt()) - 100)
    messages = (
        Message("system", brief_prompt()),
        Message("user", f"Here is the conversation:\n\n{conversation}\n\nWrite the brief."),
    )
    chat = ChatRequest(
        messages=messages,
        model=provider.resolve_model(body.model),
        api_key=choice.api_key,
        max_tokens=BRIEF_MAX_TOKENS,
    )
    stream = wants_stream(request, body.stream)
    release = await admit(request, choice.api_key)
    limits = TurnLimits(total_seconds=settings.turn_seconds)
    events = run_turn(provider, chat, limits, speak=False)
    return await respond(request, events, stream=stream, release=release)
