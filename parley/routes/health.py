"""GET /api/health: what this server offers, without calling anything upstream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from parley import __version__
from parley.config import Settings
from parley.deps import ServicesDep
from parley.providers.grounded import GroundedProvider
from parley.providers.registry import ProviderRegistry
from parley.routes.errors import error_body

router = APIRouter()


class HealthOut(BaseModel):
    status: str
    version: str
    providers: dict[str, Any]
    speech: dict[str, Any]
    storage: str
    turn_metrics: bool
    components: dict[str, Any]


class ReadyOut(BaseModel):
    status: str


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
                # What answers offline, said plainly: the design notes (and the small model).
                "label": getattr(local, "label", "Offline model"),
                "grounded": isinstance(local, GroundedProvider),
            },
        },
        "speech": speech,
        "storage": "server" if storage else "browser",
        # The page reports each turn's timings (POST /api/metrics/turn) only when they count.
        "turn_metrics": settings.metrics_enabled,
    }


NOT_READY = "This instance can't reach {down} right now; send traffic to another one."


@router.get("/api/health", response_model=HealthOut)
async def health(services: ServicesDep) -> JSONResponse:
    """Status, version, which providers are ready, where history is kept, and each
    configured dependency (ok, or degraded since when). 200 while the process answers."""
    # Built once in the lifespan (plus what the components last showed): health must cost
    # nothing and call nothing.
    return JSONResponse({**services.health, **services.components.report()},
                        headers={"Cache-Control": "no-store"})


@router.get("/api/ready", response_model=ReadyOut,
            responses={503: {"description": "A configured dependency is down."}})
async def ready(services: ServicesDep) -> JSONResponse:
    """For load balancers: 503 while a configured dependency (database, Redis) is down."""
    components = services.components
    if components.ready:
        return JSONResponse({"status": "ready"}, headers={"Cache-Control": "no-store"})
    report = components.report()["components"]
    down = " and ".join(name for name, part in report.items() if part["status"] != "ok")
    return JSONResponse(
        error_body("not_ready", NOT_READY.format(down=down)), status_code=503,
        headers={"Cache-Control": "no-store", "Retry-After": "5"},
    )
