"""The one place errors become HTTP answers: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parley import errors
from parley.observability.requests import request_record

log = logging.getLogger(__name__)

_HTTP_CODES = {
    # FastAPI's answer to a body it cannot parse (a 5,000-digit number, a broken form).
    400: ("bad_request", "Parley could not read the request body. Check that it is well-formed "
          "JSON (or form data, for audio) and try again."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "That request is too large."),
    415: ("unsupported_media_type", "That content type is not accepted here."),
}


def error_body(
    code: str, message: str, *, details: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """The contract's error object."""
    inner: dict[str, Any] = {"code": code, "message": message}
    if details:
        inner["details"] = details
    inner.update({k: v for k, v in extra.items() if v is not None})
    return {"error": inner}


def parley_error_response(exc: errors.ParleyError, **extra: Any) -> JSONResponse:
    """A JSON response for a Parley error, with Retry-After when the error carries one."""
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return JSONResponse(
        error_body(exc.code, exc.message, **extra), status_code=exc.status, headers=headers
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or "body"


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return JSONResponse(
            error_body("invalid_json", "The request body is not valid JSON. Check it and retry."),
            status_code=422,
        )
    # Never echo the rejected input back: it may be (or contain) a key.
    details = [{"field": _field(tuple(p.get("loc", ()))), "problem": p.get("msg", "")}
               for p in problems]
    fields = ", ".join(dict.fromkeys(d["field"] for d in details))
    return JSONResponse(
        error_body(
            "invalid_request",
            f"Some fields need fixing: {fields}. See details.",
            details=details,
        ),
        status_code=422,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, ours or the framework's, in the contract's shape."""

    async def on_parley_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.ParleyError)
        request_record(request).error_code = exc.code
        return parley_error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        request_record(request).error_code = "invalid_request"
        return _validation_response(exc)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "That did not work."))
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", errors.ParleyError.default_message), status_code=500
        )

    app.add_exception_handler(errors.ParleyError, on_parley_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
