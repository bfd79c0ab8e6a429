"""HEIC decodes with the heif extra; without it, HEIC is refused with what to send instead."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from parley.images.heif import NO_HEIF, heif_available
from tests.images import pictures
from tests.live import ROOT

needs_heif = pytest.mark.skipif(not heif_available(), reason="pillow-heif is not installed")

# Runs where pillow-heif cannot be imported, as on a server without the heif extra.
WITHOUT_HEIF = """
import json, sys
sys.modules["pillow_heif"] = None  # any import of it now fails as if it were not installed
from parley import errors
from parley.images import prepare_image
from parley.images.heif import heif_available
try:
    prepare_image(sys.stdin.read())
except errors.ParleyError as error:
    print(json.dumps([heif_available(), error.status, error.code, error.message]))
"""


@needs_heif
def test_heif_is_available_with_the_extra() -> None:
    assert heif_available()


@needs_heif
def test_without_the_extra_heic_is_refused_with_a_way_out() -> None:
    url = pictures.data_url(pictures.heic_photo(), "image/heic")
    run = subprocess.run([sys.executable, "-c", WITHOUT_HEIF], input=url, cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout) == [False, 415, "unsupported_image", NO_HEIF]
    assert "JPEG" in NO_HEIF
