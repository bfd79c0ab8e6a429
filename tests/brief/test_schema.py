"""The brief's shape: the contract's camelCase, its caps, and the strict schema for models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.brief.schema import MAX_BYTES, SECTIONS, Brief, output_schema


def test_the_wire_shape_is_the_contracts() -> None:
    brief = Brief.model_validate({"title": "t", "sections": {"openQuestions": [{"text": "q"}]},
                                  "conflicts": [{"decision": "d", "turn": 3}]})
    wire = brief.wire()
    assert list(wire["sections"]) == list(SECTIONS)
    assert wire["sections"]["openQuestions"] == [{"text": "q", "turn": None}]
    assert wire["conflicts"] == [{"decision": "d", "turn": 3, "note": "", "decisionTurn": None}]
    assert Brief.model_validate(wire) == brief


@pytest.mark.parametrize(
    "bad",
    [{"sections": {"ideas": [{"text": "x\x00"}]}}, {"extra": 1}, {"title": "t" * 201}],
)
def test_what_is_not_a_brief_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        Brief.model_validate(bad)


def test_size_counts_the_json() -> None:
    item = {"text": "x" * 590}
    big = Brief.model_validate({"sections": {k: [item] * 20 for k in SECTIONS}})
    assert big.size() > MAX_BYTES > Brief().size()


def test_the_output_schema_is_strict_everywhere() -> None:
    def objects(node: object) -> list[dict[str, object]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "object" else []
            return found + [o for v in node.values() for o in objects(v)]
        return []

    for node in objects(output_schema()):
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])  # type: ignore[call-overload]
