"""Pictures in chat messages as OpenAI's Chat Completions API takes them, for the fake server.

Content parts are read from the request as sent (`content_parts`), checked the way the real
API checks them (`check_content`, with its error bodies), counted in the prompt's usage
(`image_tokens`) and, when a script asks, described in the reply (`describe`), so a test can see
that the model "saw" the picture Parley sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web
from PIL import Image

from tests.fakes.openai_wire import error

# Models the fake lets see pictures unless told otherwise (FakeOpenAI(vision_models=...)).
VISION_MODELS: Final = frozenset({
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    "gpt-5", "gpt-5-mini", "gpt-5-nano",
})
# What OpenAI decodes; anything else (HEIC, AVIF, SVG...) is an "unsupported image".
UPSTREAM_FORMATS: Final = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
_PART_TYPES: Final = ("text", "image_url", "input_audio", "refusal", "audio", "file")
_DETAILS: Final = ("auto", "low", "high")
_DATA_URL: Final = re.compile(r"data:([^;,]*)(;base64)?,(.*)", re.DOTALL)

# The real API's messages, word for word as it sends them.
NOT_A_VISION_MODEL: Final = "Invalid content type. image_url is only supported by certain models."
UNSUPPORTED_IMAGE: Final = (
    "You uploaded an unsupported image. Please make sure your image has of one the following "
    "formats: ['png', 'jpeg', 'gif', 'webp']."
)
_EXPECTED_DATA_URL: Final = (
    "Expected a base64-encoded data URL with an image MIME type "
    "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got"
)


@dataclass(frozen=True)
class ContentPart:
    """One part of a chat message's content, as the fake received it.

    A message whose content is a plain string counts as one text part.
    """

    message: int  # the message's index in `messages`
    role: str
    type: str  # "text", "image_url", ...
    text: str | None = None
    url: str | None = field(default=None, repr=False)  # image_url.url, exactly as sent
    detail: str | None = None  # image_url.detail, if sent

    @property
    def media_type(self) -> str | None:
        """The media type a data URL declares (None for links and text)."""
        match = _DATA_URL.fullmatch(self.url or "")
        return match.group(1) if match else None

    @property
    def data(self) -> bytes | None:
        """The bytes of a base64 data URL (None for links, text and broken payloads)."""
        return _payload(self.url or "")

    def image(self) -> Image.Image:
        """The picture, decoded; raises ValueError when this part holds no decodable picture."""
        data = self.data
        if data is None:
            raise ValueError("This part has no base64 data URL picture.")
        image = Image.open(io.BytesIO(data))
        image.load()
        return image


def _payload(url: str) -> bytes | None:
    match = _DATA_URL.fullmatch(url)
    if match is None or not match.group(2):
        return None
    try:
        return base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        return None


def content_parts(body: Any) -> list[ContentPart]:
    """Every content part of every message in a chat request body, in order."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return []
    parts: list[ContentPart] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role, content = str(message.get("role")), message.get("content")
        if isinstance(content, str):
            parts.append(ContentPart(index, role, "text", text=content))
        elif isinstance(content, list):
            parts.extend(_part(index, role, part) for part in content if isinstance(part, dict))
    return parts


def _part(index: int, role: str, part: dict[str, Any]) -> ContentPart:
    image_url = part.get("image_url")
    url = detail = None
    if isinstance(image_url, dict):
        url, detail = image_url.get("url"), image_url.get("detail")
    text = part.get("text")
    return ContentPart(index, role, str(part.get("type")),
                       text=text if isinstance(text, str) else None,
                       url=url if isinstance(url, str) else None,
                       detail=detail if isinstance(detail, str) else None)


# ---------------------------------------------------------------------------------------------
# Checking a request as OpenAI does


def _image_parts(messages: list[Any]) -> Iterator[tuple[int, int, dict[str, Any], str]]:
    """(message index, part index, part, role) of each part of each list content."""
    for i, message in enumerate(messages):
        if isinstance(message, dict) and isinstance(message.get("content"), list):
            for j, part in enumerate(message["content"]):
                yield i, j, part, str(message.get("role"))


def _shape_error(where: str, part: Any) -> web.Response | None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in _PART_TYPES:
        supported = ", ".join(f"'{t}'" for t in _PART_TYPES[:-1]) + f", and '{_PART_TYPES[-1]}'"
        return error(400, f"Invalid value: {kind!r}. Supported values are: {supported}.",
                     param=f"{where}.type", code="invalid_value")
    if kind == "text" and not isinstance(part.get("text"), str):
        return error(400, f"Missing required parameter: '{where}.text'.",
                     code="missing_required_parameter", param=f"{where}.text")
    if kind != "image_url":
        return None
    image_url = part.get("image_url")
    if not isinstance(image_url, dict):
        return error(400, f"Invalid type for '{where}.image_url': expected an object, but got "
                     f"{type(image_url).__name__} instead.", param=f"{where}.image_url",
                     code="invalid_type")
    if not isinstance(image_url.get("url"), str):
        return error(400, f"Missing required parameter: '{where}.image_url.url'.",
                     code="missing_required_parameter", param=f"{where}.image_url.url")
    detail = image_url.get("detail", "auto")
    if detail not in _DETAILS:
        return error(400, f"Invalid value: {detail!r}. Supported values are: 'auto', 'low', and "
                     "'high'.", param=f"{where}.image_url.detail", code="invalid_value")
    return None


def _url_error(where: str, url: str) -> web.Response | None:
    if url.startswith(("http://", "https://")):
        return None  # OpenAI would fetch it; the fake takes it as seen
    param = f"{where}.image_url.url"
    match = _DATA_URL.fullmatch(url)
    if match is None:
        problem = "a value without the 'data:' prefix"
    elif not match.group(1).startswith("image/"):
        problem = f"unsupported MIME type '{match.group(1)}'"
    elif not match.group(3):
        problem = "empty base64-encoded bytes"
    else:
        return _decode_error(url)
    return error(400, f"Invalid image URL: '{param}'. {_EXPECTED_DATA_URL} {problem}.",
                 param=param, code="invalid_value")


def _decode_error(url: str) -> web.Response | None:
    data = _payload(url)
    try:
        if data is None:
            raise ValueError("not base64")
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in UPSTREAM_FORMATS:
                raise ValueError(image.format)
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        return error(400, UNSUPPORTED_IMAGE, code="invalid_image_format")
    return None


def check_content(messages: list[Any], model: str,
                  vision_models: Collection[str]) -> web.Response | None:
    """The 400 OpenAI answers for these messages' content parts, or None when it takes them."""
    for i, j, part, role in _image_parts(messages):
        where = f"messages[{i}].content[{j}]"
        shape = _shape_error(where, part)
        if shape is not None:
            return shape
        if part["type"] != "image_url":
            continue
        if role != "user":
            return error(400, f"Invalid 'messages[{i}]'. Image URLs are only allowed for messages "
                         f"with role 'user', but this message with role '{role}' contains an "
                         "image URL.", param=f"messages[{i}]", code="invalid_value")
        if model not in vision_models:
            # This one names its parameter the old way, with dots before the brackets.
            return error(400, NOT_A_VISION_MODEL, param=f"messages.[{i}].content.[{j}].type")
        failure = _url_error(where, part["image_url"]["url"])
        if failure is not None:
            return failure
    return None


# ---------------------------------------------------------------------------------------------
# What the model "sees"


def image_tokens(width: int, height: int, detail: str | None) -> int:
    """OpenAI's tile accounting: 85 tokens, plus 170 per 512 px tile at high detail."""
    if detail == "low":
        return 85
    fit = min(1.0, 2048 / max(width, height))  # within 2048 x 2048
    fit *= min(1.0, 768 / (min(width, height) * fit))  # then the short side at most 768
    tiles = math.ceil(width * fit / 512) * math.ceil(height * fit / 512)
    return 85 + 170 * tiles


def prompt_image_tokens(body: Any) -> int:
    """The tokens every decodable picture in a request adds to its prompt."""
    total = 0
    for part in content_parts(body):
        if part.type != "image_url" or part.url is None:
            continue
        try:
            size = part.image().size
        except (OSError, SyntaxError, ValueError, EOFError):
            size = (512, 512)  # a link: one tile's worth
        total += image_tokens(*size, part.detail)
    return total


def _seen(part: ContentPart) -> str:
    try:
        image = part.image()
    except (OSError, SyntaxError, ValueError, EOFError):
        return "a linked image"
    return f"a {image.width}x{image.height} {image.format}"


def describe(body: Any) -> str:
    """A reply about the pictures in the last user message, as a vision model might give."""
    messages = body.get("messages", []) if isinstance(body, dict) else []
    last = max((i for i, m in enumerate(messages)
                if isinstance(m, dict) and m.get("role") == "user"), default=None)
    return describe_parts([part for part in content_parts(body)
                           if part.message == last and part.type == "image_url"])


def describe_parts(pictures: list[ContentPart]) -> str:
    """A reply about these pictures, as a vision model might give."""
    seen = [_seen(part) for part in pictures]
    if not seen:
        return "I don't see an image in your message. Could you attach it?"
    listed = seen[0] if len(seen) == 1 else f"{', '.join(seen[:-1])} and {seen[-1]}"
    noun = "image" if len(seen) == 1 else "images"
    return f"I see {len(seen)} {noun}: {listed}. What should we look at first?"
