"""Text that can be stored, logged and sent upstream safely: the one check every field gets."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# NUL and lone surrogates cannot be stored, logged or re-encoded for the upstream safely.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def _clean(value: str) -> str:
    if _UNSAFE.search(value):
        raise ValueError("text must not contain NUL characters or unpaired surrogates")
    return value


CleanText = Annotated[str, AfterValidator(_clean)]
