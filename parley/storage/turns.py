"""Keeping a conversation turn on the server while it streams (when the request names a session).

The turn is answered whatever happens to the history: when the database cannot take the
turn, the reply still streams and its `done` says `"saved": false`, so the device (which
always keeps its own copy) can say the turn is not on the server yet.

Imports nothing of the database layer: a server without history never pays for it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley import errors
from parley.conversation.turn import Delta, Done, TurnEvent

if TYPE_CHECKING:
    from parley.storage.repository import HistoryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Keep:
    """Where a turn is kept on the server: the owner's session, and the person's words and
    pictures (re-encoded data URLs, never what they sent)."""

    store: HistoryStore
    owner: str
    session_id: str
    mode: str
    user_text: str
    images: tuple[str, ...] = ()
    project_id: str | None = None


async def kept(
    events: AsyncGenerator[TurnEvent, None], keep: Keep
) -> AsyncGenerator[TurnEvent, None]:
    """Store the person's words, pass the turn's events through, then store the reply.

    The person's words are stored before the model is called (another owner's session is
    a 404 before anything is paid for). A reply cut short (an upstream failure, or the
    person hanging up mid-stream) is stored as far as it got, marked interrupted.
    """
    store = keep.store
    saved = await _kept(store.append_message(
        keep.owner, keep.session_id, "user", keep.user_text, mode=keep.mode, images=keep.images,
        project_id=keep.project_id,
    ))
    parts: list[str] = []
    finished = False
    async with aclosing(events):
        try:
            async for event in events:
                if isinstance(event, Delta):
                    parts.append(event.text)
                elif isinstance(event, Done):
                    finished = True
                    if saved:
                        saved = await _kept(store.append_message_shielded(
                            keep.owner, keep.session_id, "bot", event.reply, mode=keep.mode
                        ))
                    event = dataclasses.replace(event, saved=saved)
                yield event
        finally:
            text = "".join(parts)
            if not finished and saved and text.strip():
                # Shielded: when the client went away this generator is being cancelled,
                # and the partial reply must still be written.
                await _kept(store.append_message_shielded(
                    keep.owner, keep.session_id, "bot", text, interrupted=True, mode=keep.mode
                ))


async def _kept(write: Awaitable[Any]) -> bool:
    """Whether the write went through; history being unreachable or full is not fatal."""
    try:
        await write
    except (errors.StorageUnavailable, errors.HistoryFull) as exc:
        log.warning("a turn was answered but not kept on the server: %s", exc.code)
        return False
    return True
