"""The contract's caps: counts per turn and per request, bytes, pixels; messages for people."""

from __future__ import annotations

import pytest

from parley.images.limits import (
    DEFAULT_LIMITS,
    ImageLimits,
    check_bytes,
    check_counts,
    check_pixels,
    megabytes,
)
from tests.images.checks import refused


def test_the_defaults_are_the_contracts_numbers() -> None:
    assert DEFAULT_LIMITS == ImageLimits(per_turn=4, per_request=8, max_bytes=5_000_000,
                                         max_pixels=40_000_000, max_side=2048)


@pytest.mark.parametrize("lists", [[], [[]], [["a"] * 4], [["a"] * 4, ["b"] * 4],
                                   [["a"]] * 8])
def test_counts_within_the_caps_pass(lists: list[list[str]]) -> None:
    check_counts(lists, DEFAULT_LIMITS)


def test_five_pictures_in_one_turn_are_refused() -> None:
    with refused(422, "invalid_request") as caught:
        check_counts([["a"], ["b"] * 5], DEFAULT_LIMITS)
    assert "up to 4 pictures" in caught.value.message and "has 5" in caught.value.message


def test_nine_pictures_in_one_request_are_refused() -> None:
    with refused(422, "invalid_request") as caught:
        check_counts([["a"] * 4, ["b"] * 4, ["c"]], DEFAULT_LIMITS)
    assert "9 pictures" in caught.value.message and "up to 8" in caught.value.message


def test_bytes_cap() -> None:
    check_bytes(5_000_000, DEFAULT_LIMITS)
    with refused(413, "payload_too_large") as caught:
        check_bytes(7_230_000, DEFAULT_LIMITS)
    assert caught.value.message == (
        "That picture is 7.3 MB; Parley takes pictures up to 5 MB. "
        "Send a screenshot or a smaller photo."
    )


def test_megabytes_round_up_so_a_refused_size_never_reads_as_the_cap() -> None:
    assert megabytes(5_000_000) == "5 MB"
    assert megabytes(5_000_001) == "5.1 MB"
    assert megabytes(12_345) == "0.1 MB"


def test_pixel_cap_speaks_to_a_person() -> None:
    check_pixels(8000, 5000, DEFAULT_LIMITS)  # exactly 40 megapixels
    with refused(422, "image_too_large") as caught:
        check_pixels(50_000, 50_000, DEFAULT_LIMITS)
    assert caught.value.message == (
        "That picture is 50,000 \u00d7 50,000 pixels; Parley takes up to 40 megapixels. "
        "Send a screenshot or a smaller photo."
    )
