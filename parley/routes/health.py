"""GET /api/health: what this server offers, without calling anything upstream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/api/health")
async def health(request: Request) -> JSONResponse:
    """Status, version, which providers are ready and where history is kept."""
    # Built once in the lifespan: health must cost nothing and call nothing.
    payload: dict[str, Any] = request.app.state.health
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})
