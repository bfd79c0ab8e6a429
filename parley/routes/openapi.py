"""The OpenAPI document: every error answer documented in the contract's one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, snake_case: what went wrong, for programs.")
    message: str = Field(description="A sentence for a person, saying what to do next.")
    details: list[ErrorDetail] | None = Field(default=None, description="Validation problems.")
    partial: str | None = Field(default=None, description="Text streamed before a failure.")


class ErrorOut(BaseModel):
    """Every error Parley returns has this shape."""

    error: ErrorBody


_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def install_openapi(app: FastAPI) -> None:
    """Replace FastAPI's validation-error schema with ours and document every other error."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes,
            description='The Parley API. Every error answers `{"error": {"code", "message"}}`.',
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for nested, definition in components["ErrorOut"].pop("$defs", {}).items():
            components[nested] = definition
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        error = {"description": "An error", "content": {"application/json": {"schema": _ERROR_REF}}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {**error, "description": "The request needs fixing"}
                responses.setdefault("default", error)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
