"""Values as the history store keeps them: ids, titles, text, and the cursors of its lists."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import datetime

from parley import errors
from parley.storage.models import TITLE_MAX

# What the database refuses (NUL in PostgreSQL text) or cannot encode (lone surrogates).
# Routes refuse such input with a 4xx; text that reaches the store anyway (a model's
# reply) is kept with U+FFFD in their place rather than lost.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with what the database cannot keep replaced by U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


def parse_id(value: str, missing: str) -> uuid.UUID:
    """The id in `value`; a malformed id is just another id that is not there (NotFound)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise errors.NotFound(missing) from None


def clean_title(title: str | None) -> str | None:
    """A title on one line, storable, at most TITLE_MAX characters; None when blank."""
    if title is None:
        return None
    cleaned = " ".join(storable(title).split())[:TITLE_MAX]
    return cleaned or None


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor of a newest-first list, just past the row last shown."""
    raw = f"{at.isoformat()}|{row_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, stale: str) -> tuple[datetime, uuid.UUID]:
    """The time and id in a cursor; InvalidRequest(`stale`) for one this store did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, last = raw.partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("cursor time without a zone")
        return when, uuid.UUID(hex=last)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidRequest(stale) from None
