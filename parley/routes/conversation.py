"""POST /api/conversation: one spoken turn in, a reply out (JSON or SSE)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.config import Settings
from parley.conversation.history import build_messages
from parley.conversation.persona import system_prompt
from parley.conversation.turn import TurnLimits, run_turn
from parley.deps import AccessCodeDep, BearerKeyDep, RegistryDep, SettingsDep, person_key
from parley.providers.base import ChatRequest, Message
from parley.routes.schemas import ConversationIn, HistoryTurn, TurnOut
from parley.routes.streaming import respond, wants_stream
from parley.security.admission import admit

router = APIRouter()

TURN_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The reply as JSON, or as SSE events (`delta`, `sentence`, then "
        "`done` or `error`) when streaming was asked for.",
        "model": TurnOut,
        "content": {"text/event-stream": {}},
    },
}


def check_history(history: list[HistoryTurn], settings: Settings) -> list[Message]:
    """The history as provider messages, refusing more than the operator allows."""
    if len(history) > settings.max_history_messages:
        raise errors.PayloadTooLarge(
            f"This conversation has more than {settings.max_history_messages} turns. "
            "Start a new conversation to keep going."
        )
    too_long = settings.max_message_chars * 4
    if any(len(turn.content) > too_long for turn in history):
        raise errors.PayloadTooLarge(
            "One of the earlier turns is too long to send. Start a new conversation."
        )
    return [Message(turn.role, turn.content) for turn in history]


@router.post("/api/conversation", responses=TURN_RESPONSES, response_model=None)
async def conversation(
    body: ConversationIn,
    request: Request,
    settings: SettingsDep,
    registry: RegistryDep,
    bearer: BearerKeyDep,
    code: AccessCodeDep,
) -> Response:
    """Answer one turn of a design conversation."""
    message = body.message.strip()
    if not message:
        raise errors.InvalidRequest("Say or type something first: the message is empty.")
    if len(message) > settings.max_message_chars:
        raise errors.PayloadTooLarge(
            f"That message is longer than {settings.max_message_chars} characters. "
            "Try saying it in a few shorter turns."
        )
    history = check_history(body.history, settings)
    choice = registry.choose(body.provider, person_key(body.api_key, bearer), code)
    provider = choice.provider
    request.state.provider_attempted = provider.name
    model = provider.resolve_model(body.model)
    system = system_prompt(body.mode, small_model=provider.small_model)
    budget = min(settings.history_budget_chars, provider.max_prompt_chars or 1 << 30)
    messages = build_messages(system, history, message, budget_chars=budget)
    chat = ChatRequest(messages=messages, model=model, api_key=choice.api_key)
    stream = wants_stream(request, body.stream)
    store = getattr(request.app.state, "storage", None)
    owner = None
    if body.session_id is not None and store is not None:
        # Imported only with server history on: the database layer is slow to import.
        from parley.storage.turns import record_reply

        # Resolve the owner first: a bad identity must fail before any model is paid for.
        owner = await store.owners.owner_of(request.headers)
    release = await admit(request, choice.api_key)
    limits = TurnLimits(total_seconds=settings.turn_seconds)
    events = run_turn(provider, chat, limits, speak=stream)
    if store is not None and owner is not None and body.session_id is not None:
        try:
            await store.append_message(owner, body.session_id, "user", message, mode=body.mode)
        except BaseException:
            await events.aclose()
            release()
            raise
        events = record_reply(events, store, owner, body.session_id, body.mode)
    return await respond(request, events, stream=stream, release=release)
