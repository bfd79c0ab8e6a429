"""Reading Parley's SSE answers in tests, the way a browser's stream reader would."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx


async def events(response: httpx.Response) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """Yield (event, data) pairs as they arrive on the wire."""
    name = "message"
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


async def collect(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    return [event async for event in events(response)]
