"""GET /metrics: Prometheus text format (registered only when metrics are enabled).

With PARLEY_METRICS_TOKEN set, a scraper sends it as `Authorization: Bearer <token>`;
without one, only this machine (a sidecar, a local scraper) may read the numbers.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parley import errors
from parley.deps import BearerValueDep, ClientDep, MetricsDep, SettingsDep
from parley.security.access import is_loopback_client

router = APIRouter()

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
