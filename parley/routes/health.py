"""GET /api/health: what this server offers, without calling anything upstream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from parley import __version__
from parley.config import Settings
from parley.deps import ServicesDep
from parley.providers.registry import ProviderRegistry

router = APIRouter()


class HealthOut(BaseModel):
    status: str
    version: str
    providers: dict[str, Any]
    speech: dict[str, Any]
    storage: str


def health_payload(
    settings: Settings, registry: ProviderRegistry, speech: dict[str, Any], storage: bool
) -> dict[str, Any]:
    """The health answer, built once at startup."""
    local = registry.get("local")
    return {
        "status": "ok",
        "version": __version__,
        "providers": {
            "openai": {
                "ready": True,
                "models": list(settings.openai_model),
                "operator_key": registry.keys.has_operator_key,
                "access_code_required": registry.keys.needs_access_code,
            },
            "local": {
                "ready": local is not None,
                "model": local.default_model() if local is not None else None,
                "label": "Offline model",
            },
        },
        "speech": speech,
        "storage": "server" if storage else "browser",
    }


@router.get("/api/health", response_model=HealthOut)
async def health(services: ServicesDep) -> JSONResponse:
    """Status, version, which providers are ready and where history is kept."""
    # Built once in the lifespan: health must cost nothing and call nothing.
    return JSONResponse(services.health, headers={"Cache-Control": "no-store"})
