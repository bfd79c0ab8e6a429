"""Sentry error reporting, opt-in via SENTRY_DSN, with every event scrubbed of secrets."""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.transport import Transport

from parley import __version__
from parley.security.redact import redact_value

_DROP_REQUEST_FIELDS = ("data", "cookies", "headers", "query_string", "env")


def scrub_event(event: Any, hint: Any = None) -> Any:
    """Remove request bodies, headers and anything key-shaped from an event."""
    request = event.get("request")
    if isinstance(request, dict):
        for field in _DROP_REQUEST_FIELDS:
            request.pop(field, None)
    return redact_value(event)


def scrub_breadcrumb(crumb: Any, hint: Any = None) -> Any:
    """Breadcrumbs (log lines, HTTP calls) get the same treatment."""
    return redact_value(crumb)


def init_sentry(dsn: str, *, environment: str | None = None,
                transport: type[Transport] | Transport | None = None) -> None:
    """Start reporting errors to Sentry: no PII, no local variables, no request bodies."""
    sentry_sdk.init(
        dsn=dsn,
        release=f"parley@{__version__}",
        environment=environment,
        # sentry-sdk 2.7x replaced send_default_pii=False / include_local_variables=False with
        # data_collection; this is their "collect nothing personal" setting, spelled out.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "gen_ai": {"inputs": False, "outputs": False},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
        transport=transport,
    )
