"""GET /metrics (Prometheus text format) and POST /api/metrics/turn (the page's timings).

Both are registered only when metrics are enabled. With PARLEY_METRICS_TOKEN set, a scraper
sends it as `Authorization: Bearer <token>`; without one, only this machine (a sidecar, a
local scraper) may read the numbers.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from parley import errors
from parley.deps import BearerValueDep, ClientDep, MetricsDep, SettingsDep
from parley.routes.identity import client_budget
from parley.security.access import is_loopback_client

router = APIRouter()

# A stage longer than this is a tab left in the background, not a turn: refused.
MAX_STAGE_MS = 120_000
StageMs = Annotated[float, Field(ge=0, le=MAX_STAGE_MS)]


class TurnStages(BaseModel):
    """Milliseconds per stage; a stage the turn did not have (typed: no pause) is absent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    end_of_turn: StageMs | None = Field(None, alias="endOfTurn")
    hearing: StageMs | None = None
    first_sentence: StageMs | None = Field(None, alias="firstSentence")
    first_audio: StageMs | None = Field(None, alias="firstAudio")


class TurnTiming(BaseModel):
    """One turn's voice-to-voice time, as the page measured it. Timings only: no words."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: Literal["browser", "recorder", "stream", "typed", "realtime"]
    total_ms: StageMs = Field(alias="totalMs")
    stages: TurnStages = Field(default_factory=lambda: TurnStages.model_validate({}))

NEED_TOKEN = "Send the metrics token as `Authorization: Bearer <token>` to read /metrics."


@router.get("/metrics", include_in_schema=False)
async def metrics(
    metrics: MetricsDep, settings: SettingsDep, client: ClientDep, bearer: BearerValueDep
) -> Response:
    """Counters and histograms for this instance."""
    if metrics is None:  # the route is mounted only with metrics on
        raise errors.NotFound()
    token = settings.metrics_token
    if token is None:
        if not is_loopback_client(client):
            raise errors.Unauthenticated(NEED_TOKEN)
    elif bearer is None or not hmac.compare_digest(
        bearer.encode(), token.get_secret_value().encode()
    ):
        raise errors.Unauthenticated(NEED_TOKEN)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/api/metrics/turn", status_code=204, dependencies=[Depends(client_budget)],
             responses={204: {"description": "Counted."}})
async def turn_timing(timing: TurnTiming, metrics: MetricsDep) -> Response:
    """One turn's stages into the `parley_voice_to_voice_seconds` histogram."""
    if metrics is None:  # the route is mounted only with metrics on
        raise errors.NotFound()
    observe = metrics.voice_to_voice
    observe.labels(timing.path, "total").observe(timing.total_ms / 1000)
    for stage, ms in timing.stages.model_dump(by_alias=True, exclude_none=True).items():
        observe.labels(timing.path, stage).observe(ms / 1000)
    return Response(status_code=204)
