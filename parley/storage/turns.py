"""Keeping a conversation turn on the server while it streams (when the request names a session)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from parley.conversation.turn import Delta, Done, TurnEvent
from parley.storage.repository import HistoryStore

log = logging.getLogger(__name__)


async def record_reply(
    events: AsyncGenerator[TurnEvent, None],
    store: HistoryStore,
    owner: str,
    session_id: str,
    mode: str,
) -> AsyncGenerator[TurnEvent, None]:
    """Pass a turn's events through, then store the reply however the turn ended.

    A reply cut short (an upstream failure, or the person hanging up mid-stream) is stored
    as far as it got, marked interrupted.
    """
    parts: list[str] = []
    final: str | None = None
    try:
        async for event in events:
            if isinstance(event, Delta):
                parts.append(event.text)
            elif isinstance(event, Done):
                final = event.reply
            yield event
    finally:
        await events.aclose()
        text = final if final is not None else "".join(parts)
        if text.strip():
            # Shielded: when the client went away this generator is being cancelled, and
            # the partial reply must still be written.
            await store.append_message_shielded(
                owner, session_id, "bot", text, interrupted=final is None, mode=mode
            )
