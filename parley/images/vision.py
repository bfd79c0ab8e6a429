"""Which models can see pictures, and the refusal that says which one would."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from parley import errors

# The OpenAI-compatible provider: OpenAI itself, or a vendor configured in its place.
OPENAI = "openai"
# OpenAI's GA realtime models (gpt-realtime, gpt-realtime-mini and their snapshots) take
# `input_image` parts; the beta ones (gpt-4o-realtime-preview, gpt-4o-mini-realtime-preview)
# hear and speak only.
REALTIME_VISION_PREFIX = "gpt-realtime"


def _either(names: Collection[str]) -> str:
    listed = sorted(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"


def require_vision(provider: str, model: str, vision_models: Collection[str]) -> None:
    """Refuse (422 `vision_unavailable`) pictures for a model that cannot see them.

    `provider` is the chosen provider's name, `model` the model that would answer, and
    `vision_models` the OpenAI models this server lets see pictures
    (`PARLEY_OPENAI_VISION_MODELS`).
    """
    if provider == OPENAI and model in vision_models:
        return
    if not vision_models:
        raise errors.VisionUnavailable(
            "No model on this server can see pictures. Describe it in words instead."
        )
    if provider == OPENAI:
        raise errors.VisionUnavailable(
            f"{model} can't see pictures. Pick {_either(vision_models)} in Settings to talk "
            "about one, or describe it in words."
        )
    raise errors.VisionUnavailable(
        "The offline model can't see pictures. To talk about one, use OpenAI (add your API "
        f"key in Settings) with {_either(vision_models)}, or describe it in words."
    )


def realtime_sees(model: str, setting: Literal["auto", "on", "off"] = "auto") -> bool:
    """Whether a realtime call with `model` can be shown pictures (`PARLEY_REALTIME_VISION`)."""
    if setting != "auto":
        return setting == "on"
    return model.startswith(REALTIME_VISION_PREFIX)
