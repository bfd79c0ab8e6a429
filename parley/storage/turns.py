"""Keeping a conversation turn on the server while it streams (when the request names a session).

Imports nothing of the database layer: a server without history never pays for it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley.conversation.turn import Delta, Done, TurnEvent

if TYPE_CHECKING:
    from parley.storage.repository import HistoryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Keep:
    """Where a turn is kept on the server: the owner's session, and the person's words."""

    store: HistoryStore
    owner: str
    session_id: str
    mode: str
    user_text: str


async def kept(
    events: AsyncGenerator[TurnEvent, None], keep: Keep
) -> AsyncGenerator[TurnEvent, None]:
    """Store the person's words, pass the turn's events through, then store the reply.

    The person's words are stored before the model is called. A reply cut short (an
    upstream failure, or the person hanging up mid-stream) is stored as far as it got,
    marked interrupted.
    """
    store = keep.store
    parts: list[str] = []
    final: str | None = None
    async with aclosing(events):
        await store.append_message(
            keep.owner, keep.session_id, "user", keep.user_text, mode=keep.mode
        )
        try:
            async for event in events:
                if isinstance(event, Delta):
                    parts.append(event.text)
                elif isinstance(event, Done):
                    final = event.reply
                yield event
        finally:
            text = final if final is not None else "".join(parts)
            if text.strip():
                # Shielded: when the client went away this generator is being cancelled,
                # and the partial reply must still be written.
                await store.append_message_shielded(
                    keep.owner, keep.session_id, "bot", text,
                    interrupted=final is None, mode=keep.mode,
                )
