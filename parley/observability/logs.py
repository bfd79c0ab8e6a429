"""Log setup: text or JSON lines, every line passed through key redaction."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from parley.security.redact import redact

# Fields that request and turn logging attach to records with `extra=`.
CONTEXT_FIELDS = (
    "request_id", "method", "route", "status", "duration_ms", "provider", "model",
    "first_token_ms", "total_ms", "client", "error_code",
)
_HANDLER_NAME = "parley"


class RedactingTextFormatter(logging.Formatter):
    """Plain text lines, with context fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        return redact(f"{line} {extras}" if extras else line)


class RedactingJsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and context fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, ensure_ascii=False, default=str))


def configure_logging(log_format: str, level: str) -> None:
    """Install Parley's one root handler (idempotent) and quiet chatty libraries."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(RedactingJsonFormatter())
    else:
        handler.setFormatter(
            RedactingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level)
    # The SDK logs request options (headers included) at DEBUG; never let that through.
    for name in ("openai", "httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    # Parley logs every request itself (parley.request), without query strings, which can
    # carry secrets; uvicorn's access line is redundant and would log the raw URL.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
