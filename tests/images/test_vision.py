"""Pictures need a model that sees; the refusal names one that would."""

from __future__ import annotations

from parley.images import realtime_sees, require_vision
from tests.images.checks import refused

VISION = ["gpt-4.1-mini", "gpt-4o"]


def test_a_vision_model_on_openai_passes() -> None:
    require_vision("openai", "gpt-4o", VISION)


def test_an_openai_model_that_cannot_see_names_those_that_can() -> None:
    with refused(422, "vision_unavailable") as caught:
        require_vision("openai", "gpt-3.5-turbo", VISION)
    assert caught.value.message == (
        "gpt-3.5-turbo can't see pictures. Pick gpt-4.1-mini or gpt-4o in Settings to talk "
        "about one, or describe it in words."
    )


def test_the_offline_model_says_what_would_see() -> None:
    with refused(422, "vision_unavailable") as caught:
        require_vision("local", "SmolLM2-360M-Instruct", ["gpt-4.1-mini"])
    assert "offline model can't see pictures" in caught.value.message
    assert "OpenAI" in caught.value.message and "gpt-4.1-mini" in caught.value.message


def test_no_vision_model_at_all() -> None:
    with refused(422, "vision_unavailable") as caught:
        require_vision("openai", "gpt-4o", [])
    assert caught.value.message == (
        "No model on this server can see pictures. Describe it in words instead."
    )


def test_the_ga_realtime_models_see_and_the_beta_ones_do_not() -> None:
    assert realtime_sees("gpt-realtime")
    assert realtime_sees("gpt-realtime-mini-2025-10-06")
    assert not realtime_sees("gpt-4o-realtime-preview-2025-06-03")
    assert not realtime_sees("gpt-4o-mini-realtime-preview")


def test_the_operator_setting_wins_over_the_name() -> None:
    assert realtime_sees("my-local-realtime", "on")
    assert not realtime_sees("gpt-realtime", "off")
