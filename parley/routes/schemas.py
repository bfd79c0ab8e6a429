"""Request and answer shapes shared by the model-turn routes (camelCase, as in the contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from parley.brief.schema import Brief
from parley.conversation.persona import Mode
from parley.security.keys import sendable
from parley.text import CleanText

# Hard caps for the schema; the operator's (smaller) limits are checked in the routes.
MAX_TEXT = 100_000
MAX_TURNS = 1_000


def _key(value: SecretStr) -> SecretStr:
    secret = value.get_secret_value().strip()
    if secret and not sendable(secret):
        raise ValueError("an API key has only letters, digits and punctuation, with no spaces")
    return value


ApiKey = Annotated[SecretStr, AfterValidator(_key)]


# Pictures: data URLs ("data:image/jpeg;base64,..."). How many and how big is checked with a
# clear message by parley.images (4 a turn, 8 a request, 5 MB each); these caps only bound
# what is parsed at all.
ImageUrl = Annotated[str, Field(max_length=64_000_000)]
Images = Annotated[list[ImageUrl], Field(default_factory=list, max_length=32)]


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"]
    content: CleanText = Field(max_length=MAX_TEXT)
    images: Images


class TurnOptions(BaseModel):
    """Fields every model turn accepts."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    api_key: ApiKey | None = Field(
        default=None, alias="apiKey", max_length=500,
        description="The person's OpenAI key; may also come as `Authorization: Bearer`.",
    )
    history: list[HistoryTurn] = Field(default_factory=list, max_length=MAX_TURNS)
    provider: Literal["openai", "local"] | None = None
    model: CleanText | None = Field(default=None, max_length=200)
    stream: bool = False


class ConversationIn(TurnOptions):
    message: CleanText = Field(min_length=1, max_length=MAX_TEXT)
    images: Images = Field(description="Pictures with this turn (data URLs: PNG, JPEG, "
                           "WebP or HEIC; at most 4 a turn and 8 a request, 5 MB each).")
    mode: Mode = "sparring"
    session_id: CleanText | None = Field(default=None, alias="sessionId", max_length=100)
    project_id: CleanText | None = Field(
        default=None, alias="projectId", max_length=100,
        description="With `sessionId`: the project a new server-side conversation joins.",
    )
    brief: Brief | None = Field(
        default=None, description="The living brief so far, so the reply can aim at its gaps."
    )


class BriefIn(TurnOptions):
    pass


class BriefUpdateIn(TurnOptions):
    brief: Brief = Field(
        default_factory=Brief,
        description="The brief so far (empty at the start); the answer is this brief, updated.",
    )
    since: int = Field(
        default=0, ge=0, le=MAX_TURNS,
        description="The first turn of `history` the brief has not seen yet (0: all of them).",
    )
    mode: Mode = "sparring"


class BriefUpdateOut(BaseModel):
    brief: dict[str, Any] = Field(description="The updated brief (see the contract's shape).")
    provider: str
    model: str


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TimingsOut(BaseModel):
    first_token_ms: float | None
    total_ms: float


class TurnOut(BaseModel):
    """A JSON answer (`/api/conversation` and `/api/brief`)."""

    reply: str
    provider: str
    model: str
    usage: UsageOut | None
    timings: TimingsOut
    saved: bool | None = Field(
        default=None,
        description="With a `sessionId` and server history: false when the server could not "
        "keep the turn (the device keeps it). Absent otherwise.",
    )
