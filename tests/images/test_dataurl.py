"""Data URLs are read strictly, and their size is known before a byte is decoded."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.images.dataurl import (
    BAD_BASE64,
    MALFORMED,
    NOT_A_DATA_URL,
    check_size,
    decoded_size,
    parse_data_url,
    to_data_url,
)
from parley.images.limits import DEFAULT_LIMITS, ImageLimits
from tests.images.checks import refused

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_reads_the_media_type_and_bytes() -> None:
    parsed = parse_data_url(to_data_url("image/png", PNG_MAGIC), DEFAULT_LIMITS)
    assert (parsed.media_type, parsed.data) == ("image/png", PNG_MAGIC)


def test_media_type_and_base64_token_are_case_insensitive() -> None:
    url = "DATA:Image/JPEG;BASE64," + base64.b64encode(b"\xff\xd8\xff").decode()
    assert parse_data_url("data" + url[4:], DEFAULT_LIMITS).media_type == "image/jpeg"


def test_repr_leaves_the_bytes_out() -> None:
    assert "data=" not in repr(parse_data_url(to_data_url("image/png", b"x" * 99),
                                              DEFAULT_LIMITS))


@pytest.mark.parametrize("url", [
    "https://example.com/cat.png",
    "http://127.0.0.1/private.png",
    "file:///etc/passwd",
])
def test_links_are_refused(url: str) -> None:
    with refused(415, "unsupported_image") as caught:
        parse_data_url(url, DEFAULT_LIMITS)
    assert caught.value.message == NOT_A_DATA_URL


@pytest.mark.parametrize("url", [
    "",
    "iVBORw0KGgo=",  # bare base64, as some clients send it
    "data:image/png,iVBORw0KGgo=",  # not base64-encoded
    "data:image/png;base64",  # no payload at all
    "data:;base64,iVBORw0KGgo=",  # no media type
    "data:image/png;charset=utf-8;base64,iVBORw0KGgo=",  # parameters
    "data:image/png;name=a.png;base64,iVBORw0KGgo=",
    "data:image;base64,iVBORw0KGgo=",
    "data: image/png;base64,iVBORw0KGgo=",
])
def test_anything_but_the_strict_shape_is_refused(url: str) -> None:
    with refused(415, "unsupported_image") as caught:
        parse_data_url(url, DEFAULT_LIMITS)
    assert caught.value.message == MALFORMED


@pytest.mark.parametrize("payload", [
    "iVBORw0KGgo",  # missing padding
    "iVBORw0K Ggo=",  # a space
    "iVBORw0K\nGgo=",  # a line break, as MIME base64 has
    "iVBORw0K_Ggo=",  # base64url, not base64
    "iVBORw0K\u00e9Ggo=",  # not even ASCII
    "====",
])
def test_invalid_base64_is_refused_with_a_clear_message(payload: str) -> None:
    with refused(415, "unsupported_image") as caught:
        parse_data_url("data:image/png;base64," + payload, DEFAULT_LIMITS)
    assert caught.value.message == BAD_BASE64


def test_size_is_checked_on_the_length_before_decoding() -> None:
    # Not valid base64 at all: a decoder would refuse it, so a 413 means nothing was decoded.
    url = "data:image/png;base64," + "!" * 6_700_000
    with refused(413, "payload_too_large") as caught:
        parse_data_url(url, DEFAULT_LIMITS)
    assert "5 MB" in caught.value.message
    with refused(413, "payload_too_large"):
        check_size(url, DEFAULT_LIMITS)


def test_the_cap_is_on_decoded_bytes_exactly() -> None:
    limits = ImageLimits(max_bytes=3000)
    assert len(parse_data_url(to_data_url("image/png", bytes(3000)), limits).data) == 3000
    check_size(to_data_url("image/png", bytes(3000)), limits)
    with refused(413, "payload_too_large"):
        check_size(to_data_url("image/png", bytes(3001)), limits)


def test_check_size_refuses_a_bad_shape_too() -> None:
    with refused(415, "unsupported_image"):
        check_size("https://example.com/cat.png", DEFAULT_LIMITS)


@given(st.binary(max_size=200))
def test_decoded_size_matches_decoding(data: bytes) -> None:
    assert decoded_size(base64.b64encode(data).decode()) == len(data)


@given(st.binary(max_size=200), st.sampled_from(["image/png", "image/heic"]))
def test_round_trip(data: bytes, media_type: str) -> None:
    parsed = parse_data_url(to_data_url(media_type, data), DEFAULT_LIMITS)
    assert (parsed.media_type, parsed.data) == (media_type, data)
