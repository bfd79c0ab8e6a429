"""POST /api/conversation: one spoken turn in, a reply out (JSON or SSE)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parley import errors
from parley.brief.gaps import brief_context, heads_up
from parley.config import Settings
from parley.conversation.history import build_messages, checked_history
from parley.conversation.persona import system_prompt, with_brief, with_notes, with_pictures
from parley.deps import (
    AccessDep,
    BearerKeyDep,
    ComposerDep,
    HistoryDep,
    OriginsDep,
    RegistryDep,
    SettingsDep,
    person_key,
)
from parley.providers.base import ChatRequest, Message, Provider
from parley.routes.pipeline import TURN_RESPONSES, TurnPlan, TurnsDep
from parley.routes.schemas import ConversationIn
from parley.routes.streaming import wants_stream
from parley.storage.turns import Keep

router = APIRouter()


async def pictures(
    images: list[str], history: list[Message], provider: Provider, model: str,
    settings: Settings,
) -> tuple[list[Message], tuple[str, ...]]:
    """Every picture of the turn checked and re-encoded; 422 for a model that can't see."""
    # Imported here: Pillow loads only for the turns that bring pictures.
    from parley.images import check_request, require_vision
    from parley.images.turns import with_prepared_images

    check_request([images, *(turn.images for turn in history)])  # cheap refusals first
    if provider.needs_key:
        require_vision("openai", model, settings.vision_models)
    # Offline, the pictures are checked all the same; the notes say they can't see them.
    return await with_prepared_images(history, images)

@router.post("/api/conversation", responses=TURN_RESPONSES, response_model=None)
async def conversation(
    access: AccessDep,
    body: ConversationIn,
    request: Request,
    settings: SettingsDep,
    registry: RegistryDep,
    history_store: HistoryDep,
    turns: TurnsDep,
    origins: OriginsDep,
    composer: ComposerDep,
    bearer: BearerKeyDep,
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
    history = checked_history(
        body.history,
        max_messages=settings.max_history_messages,
        max_message_chars=settings.max_message_chars,
    )
    choice = registry.choose(body.provider, person_key(body.api_key, bearer), access)
    provider = choice.provider
    system = system_prompt(body.mode, small_model=provider.small_model)
    budget = min(settings.history_budget_chars, provider.max_prompt_chars or 1 << 30)
    if provider.needs_key:
        # The brief's biggest gap or a fresh conflict, for the next question to aim at.
        system = with_brief(system, brief_context(body.brief, len(history)))
    if provider.needs_key and settings.knowledge_context and composer is not None:
        # Optional: the notes' best topic as context a big model may use, never must.
        system = with_notes(system, composer, message, [t.content for t in history])
    model = provider.resolve_model(body.model)
    images: tuple[str, ...] = ()
    if body.images or any(turn.images for turn in history):
        history, images = await pictures(body.images, history, provider, model, settings)
        if provider.needs_key:
            system = with_pictures(system, body.mode)
    chat = ChatRequest(
        messages=build_messages(system, history, message, budget_chars=budget, images=images),
        model=model,
        api_key=choice.api_key,
        mode=body.mode,
        heads_up=None if provider.needs_key else heads_up(body.brief, len(history)),
    )
    keep = None
    if body.session_id is not None and history_store is not None:
        # Resolve the owner first: a bad identity must fail before any model is paid for.
        owner = await history_store.owners.owner_of(request.headers, origins=origins)
        if owner is not None:
            # The pictures as they went upstream: re-encoded, without their metadata.
            keep = Keep(history_store, owner, body.session_id, body.mode, message, images,
                        project_id=body.project_id)
    stream = wants_stream(request, body.stream)
    return await turns.start(TurnPlan(choice, chat, stream=stream, keep=keep))
