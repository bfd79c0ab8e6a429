"""GET /metrics: Prometheus text format (registered only when metrics are enabled)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parley import errors
from parley.deps import MetricsDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(metrics: MetricsDep) -> Response:
    """Counters and histograms for this instance."""
    if metrics is None:  # the route is mounted only with metrics on
        raise errors.NotFound()
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
