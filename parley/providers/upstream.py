"""Turning OpenAI SDK failures into Parley errors, for every route that calls OpenAI.

Upstream messages are never passed on: OpenAI's 401 message quotes the end of the key.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from parley import errors

if TYPE_CHECKING:
    import openai


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if any."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if name == "retry-after" else None
            if parsed is None:
                continue
            seconds = parsed.timestamp() - time.time()
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


def translate_openai_error(exc: openai.OpenAIError) -> errors.ParleyError:
    """The Parley error a person should see for an OpenAI SDK exception."""
    import openai  # already loaded: `exc` came from it
    if isinstance(exc, openai.APITimeoutError):
        return errors.UpstreamTimeout()
    if isinstance(exc, openai.APIConnectionError):
        return errors.UpstreamError(
            "Parley could not reach the model service. Please try again in a moment."
        )
    if isinstance(exc, openai.AuthenticationError):
        return errors.InvalidApiKey()
    if isinstance(exc, openai.PermissionDeniedError):
        return errors.UpstreamRejected(
            "OpenAI says this key may not use that model. Check the key's project permissions."
        )
    if isinstance(exc, openai.NotFoundError):
        return errors.UpstreamRejected(
            "The model service does not know that model. Ask the server operator to check it."
        )
    if isinstance(exc, openai.RateLimitError):
        body = exc.body
        if isinstance(body, dict) and body.get("code") == "insufficient_quota":
            return errors.UpstreamRateLimited(
                "This OpenAI key has run out of credit. Check your plan and billing at OpenAI."
            )
        return errors.UpstreamRateLimited(retry_after=retry_after_seconds(exc.response.headers))
    if isinstance(exc, openai.BadRequestError):
        body = exc.body
        if isinstance(body, dict) and body.get("code") == "context_length_exceeded":
            return errors.UpstreamRejected(
                "This conversation is too long for the model. Start a new conversation."
            )
        return errors.UpstreamRejected()
    if isinstance(exc, openai.APIStatusError) and exc.status_code < 500:
        return errors.UpstreamRejected()
    return errors.UpstreamError()
