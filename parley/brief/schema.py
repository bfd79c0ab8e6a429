"""The living brief as data: sections of items, each tied to the turn it came from.

The shape is the contract's ("The living brief" in docs/architecture.md), in camelCase on the
wire. A brief is checked the same way wherever it comes from: a request body, a project kept
on the server, or a model's structured output.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from parley.text import CleanText

SectionKey = Literal[
    "problem", "audience", "constraints", "decisions", "ideas", "openQuestions", "nextSteps"
]
SECTIONS: tuple[SectionKey, ...] = (
    "problem", "audience", "constraints", "decisions", "ideas", "openQuestions", "nextSteps"
)
# What a person sees as each section's heading (the Markdown brief, the panel).
HEADINGS: dict[SectionKey, str] = {
    "problem": "Problem",
    "audience": "Audience",
    "constraints": "Constraints",
    "decisions": "Decisions",
    "ideas": "Ideas",
    "openQuestions": "Open questions",
    "nextSteps": "Next steps",
}

# A brief is small by nature: a page a person reads. The cap keeps a runaway client (or model)
# from storing megabytes per project.
MAX_BYTES = 64 * 1024
MAX_ITEMS = 40
MAX_CONFLICTS = 20
ITEM_CHARS = 600
TITLE_CHARS = 200

ItemText = Annotated[CleanText, Field(min_length=1, max_length=ITEM_CHARS)]
TurnIndex = Annotated[int, Field(ge=0, le=100_000)]
ConversationId = Annotated[CleanText, Field(max_length=100)]


class Item(BaseModel):
    """One thing a careful designer would write down, and the turn it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: ItemText
    turn: TurnIndex | None = None
    # Which conversation of the project `turn` is in; none: the one being updated. The web app
    # sets it, so an item found last week still links to the turn it came from.
    conversation_id: ConversationId | None = Field(
        default=None,
        validation_alias=AliasChoices("conversationId", "conversation_id"),
        serialization_alias="conversationId",
    )


Items = Annotated[list[Item], Field(default_factory=list, max_length=MAX_ITEMS)]


class Sections(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    problem: Items
    audience: Items
    constraints: Items
    decisions: Items
    ideas: Items
    open_questions: Items = Field(alias="openQuestions")
    next_steps: Items = Field(alias="nextSteps")

    def get(self, key: SectionKey) -> list[Item]:
        items: list[Item] = getattr(self, _attribute(key))
        return items

    def all(self) -> list[tuple[SectionKey, Item]]:
        return [(key, item) for key in SECTIONS for item in self.get(key)]


class Conflict(BaseModel):
    """A turn that goes against a decision already recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    decision: ItemText
    turn: TurnIndex | None = Field(default=None, description="The turn that clashes.")
    note: Annotated[CleanText, Field(max_length=ITEM_CHARS)] = ""
    # Aliased this way (not `alias=`) so code can name the field as Python spells it.
    decision_turn: TurnIndex | None = Field(
        default=None,
        validation_alias=AliasChoices("decisionTurn", "decision_turn"),
        serialization_alias="decisionTurn",
        description="The turn the decision came from.",
    )
    conversation_id: ConversationId | None = Field(
        default=None,
        validation_alias=AliasChoices("conversationId", "conversation_id"),
        serialization_alias="conversationId",
        description="The conversation `turn` is in; none: the one being updated.",
    )


class Brief(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    title: Annotated[CleanText, Field(max_length=TITLE_CHARS)] = ""
    sections: Sections = Field(default_factory=lambda: Sections.model_validate({}))
    conflicts: Annotated[list[Conflict], Field(max_length=MAX_CONFLICTS)] = Field(
        default_factory=list
    )

    def wire(self) -> dict[str, Any]:
        """The brief as the contract spells it (camelCase; no `conversationId` when unset)."""
        wire: dict[str, Any] = self.model_dump(by_alias=True, mode="json")
        for part in [*wire["sections"].values(), wire["conflicts"]]:
            for entry in part:
                if entry["conversationId"] is None:
                    del entry["conversationId"]
        return wire

    def size(self) -> int:
        """Bytes of the brief as JSON, for the size cap."""
        return len(self.model_dump_json(by_alias=True).encode())

    def is_empty(self) -> bool:
        return not self.title and not self.sections.all() and not self.conflicts


def _attribute(key: SectionKey) -> str:
    return {"openQuestions": "open_questions", "nextSteps": "next_steps"}.get(key, key)


def with_items(brief: Brief, sections: dict[SectionKey, list[Item]]) -> Brief:
    """A copy of `brief` with some sections replaced."""
    values = {key: sections.get(key, brief.sections.get(key)) for key in SECTIONS}
    return brief.model_copy(update={"sections": Sections.model_validate(values)})


def output_schema() -> dict[str, Any]:
    """The JSON schema a model's update must follow (OpenAI structured outputs, strict).

    Written out rather than generated: strict mode wants every property required, no
    defaults and `additionalProperties: false` everywhere, which pydantic's schema is not.
    `retracted` lists the earlier items the conversation took back; nothing else may go.
    """
    item = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "turn": {"type": ["integer", "null"]}},
        "required": ["text", "turn"],
        "additionalProperties": False,
    }
    items = {"type": "array", "items": item}
    conflict = {
        "type": "object",
        "properties": {
            "decision": {"type": "string"},
            "decisionTurn": {"type": ["integer", "null"]},
            "turn": {"type": ["integer", "null"]},
            "note": {"type": "string"},
        },
        "required": ["decision", "decisionTurn", "turn", "note"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "sections": {
                "type": "object",
                "properties": {key: items for key in SECTIONS},
                "required": list(SECTIONS),
                "additionalProperties": False,
            },
            "conflicts": {"type": "array", "items": conflict},
            "retracted": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "sections", "conflicts", "retracted"],
        "additionalProperties": False,
    }
