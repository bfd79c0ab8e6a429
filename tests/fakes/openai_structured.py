"""Structured outputs, as OpenAI's chat endpoint checks and answers them.

``response_format: {"type": "json_schema", "json_schema": {"name", "strict", "schema"}}``:
the name must be 1-64 letters, digits, ``_`` or ``-``; with ``strict: true`` every object in the
schema must list all its properties in ``required`` and set ``additionalProperties: false``,
or OpenAI answers 400 before generating anything (the messages below are OpenAI's wording).
Unscripted, the fake answers with the smallest instance of the schema, as a model with
nothing to add would; tests script the JSON (or junk) they need with ``Script(reply=...)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.fakes.openai_wire import error

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def json_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a request asks its answer to follow, if any (checked first)."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None


def check_response_format(body: dict[str, Any]) -> web.Response | None:
    """OpenAI's 400 for a response_format it would refuse, or None."""
    response_format = body.get("response_format")
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        return error(
            400,
            f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', "
            "and 'text'.",
            param="response_format.type",
            code="invalid_value",
        )
    if kind != "json_schema":
        return None
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        return error(400, "Missing required parameter: 'response_format.json_schema'.",
                     param="response_format.json_schema", code="missing_required_parameter")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        return error(
            400,
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param="response_format.json_schema.name",
            code="invalid_value",
        )
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        return error(400, "Missing required parameter: 'response_format.json_schema.schema'.",
                     param="response_format.json_schema.schema",
                     code="missing_required_parameter")
    if spec.get("strict") is True:
        for context, problem in _strict_problems(schema, ()):
            return error(
                400,
                f"Invalid schema for response_format '{name}': In context={context}, {problem}",
                param="response_format",
                code="invalid_json_schema",
            )
    return None


def _strict_problems(schema: dict[str, Any], context: tuple[str, ...]) -> Iterator[
        tuple[tuple[str, ...], str]]:
    types = schema.get("type")
    kinds = types if isinstance(types, list) else [types]
    if "object" in kinds:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            yield context, ("'additionalProperties' is required to be supplied and to be false.")
        missing = [key for key in properties if key not in schema.get("required", [])]
        if missing:
            yield context, (
                "'required' is required to be supplied and to be an array including every key "
                f"in properties. Missing '{missing[0]}'."
            )
        for key, sub in properties.items():
            yield from _strict_problems(sub, (*context, "properties", key))
    if "array" in kinds and isinstance(schema.get("items"), dict):
        yield from _strict_problems(schema["items"], (*context, "items"))


def smallest(schema: dict[str, Any]) -> Any:
    """The smallest instance of `schema`: empty strings and lists, nulls where allowed."""
    types = schema.get("type")
    kinds = types if isinstance(types, list) else [types]
    if "enum" in schema:
        return schema["enum"][0]
    if "null" in kinds:
        return None
    if "object" in kinds:
        return {key: smallest(sub) for key, sub in schema.get("properties", {}).items()}
    if "array" in kinds:
        return []
    if "string" in kinds:
        return ""
    if "boolean" in kinds:
        return False
    return 0


def smallest_answer(schema: dict[str, Any]) -> str:
    return json.dumps(smallest(schema), separators=(",", ":"))
