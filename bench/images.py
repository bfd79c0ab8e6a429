"""Pictures: the server's cost to check and re-encode one, and the bytes that go upstream.

Run with `python -m bench.images`. Pinned to one core, as a busy server gives each request
about that. The pictures are made here with Pillow (tests/images/pictures.py): a 12-megapixel
phone photo as JPEG and as HEIC, each with GPS and an orientation tag, and a retina-size PNG
screenshot of a UI. The goal: a phone photo checked and re-encoded in under 150 ms.
Also compares decoding strategies: draft mode (JPEG) and `reduce()` (what Parley does when
the result keeps at least 3/4 of the 2048 px cap) against a full decode and a Lanczos resize.
"""

from __future__ import annotations

import functools
import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from PIL import Image

from parley.images import prepare_image
from parley.images.heif import heif_available
from tests.images import pictures

RUNS = int(os.environ.get("IMAGE_RUNS", "7"))
GOAL_MS = 150.0
GOAL_BYTES = 500_000
T = TypeVar("T")


@dataclass
class Row:
    name: str
    source: bytes
    media_type: str
    goal_ms: float | None


def _pin_to_one_core() -> int:
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    """The median milliseconds of `RUNS` runs after a warm-up, and the last result."""
    result = work()  # warm: plugins loaded, caches filled
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _kb(size: int) -> str:
    return f"{size / 1000:,.0f} KB"


@functools.cache
def _phone_photo() -> bytes:
    # Quality 95 brings the synthetic photo near a real one's size (3-4 MB at 12 MP).
    return pictures.encoded(pictures.photo_pixels(4032, 3024), "JPEG", quality=95,
                            exif=pictures.photo_exif(6))


@functools.cache
def _heic_photo() -> bytes:
    # x265's fastest preset: the default takes about 25 s for 12 megapixels here. Quality 50
    # gives about the size of an iPhone's 12-megapixel HEIC (1-2 MB).
    return pictures.encoded(pictures.photo_pixels(4032, 3024), "HEIF", quality=50,
                            exif=pictures.photo_exif(6).tobytes(),
                            enc_params={"preset": "ultrafast"})


def _rows() -> list[Row]:
    rows = [
        Row("JPEG phone photo 4032x3024", _phone_photo(), "image/jpeg", GOAL_MS),
        Row("PNG screenshot 2880x1800", pictures.ui_screenshot(2880, 1800), "image/png", None),
    ]
    if heif_available():
        rows.append(Row("HEIC phone photo 4032x3024", _heic_photo(), "image/heic", GOAL_MS))
    return rows


def _main_table() -> None:
    header = (f"{'picture':<28} {'in':>9}  {'upstream':<22} {'data URL':>9} "
              f"{'median':>8}  {'goal':>9}  met")
    print(header)
    print("-" * len(header))
    for row in _rows():
        url = pictures.data_url(row.source, row.media_type)
        ms, out = _timed(functools.partial(prepare_image, url))
        kind = out.media_type.removeprefix("image/").upper()
        upstream = f"{kind} {out.width}x{out.height} {_kb(len(out.data))}"
        goal = f"<{row.goal_ms:.0f} ms" if row.goal_ms else "-"
        met = "-" if row.goal_ms is None else ("yes" if ms < row.goal_ms else "NO")
        if len(out.data) > GOAL_BYTES:
            met += f" (over {_kb(GOAL_BYTES)})"
        print(f"{row.name:<28} {_kb(len(row.source)):>9}  {upstream:<22} "
              f"{_kb(len(out.data_url)):>9} {ms:>6.0f} ms  {goal:>9}  {met}")
    if not heif_available():
        print("HEIC phone photo: pillow-heif is not installed (pip install 'parley[heif]')")


def _decoding_strategies() -> None:
    """Draft mode and reduce() against a full decode and Lanczos, each followed by encoding."""
    jpeg, heic = _phone_photo(), _heic_photo() if heif_available() else None

    def encode(image: Image.Image) -> None:
        image.save(io.BytesIO(), "JPEG", quality=85, optimize=True)

    def opened(data: bytes) -> Image.Image:
        return Image.open(io.BytesIO(data))

    def draft(data: bytes) -> None:
        image = opened(data)
        image.draft(None, (1536, 1152))  # the smallest DCT scale keeping >= 1536 px: 1/2
        encode(image)

    def reduce(data: bytes) -> None:
        encode(opened(data).reduce(2))  # 2016 x 1512: a box average, no resampling

    def lanczos(data: bytes) -> None:
        encode(opened(data).resize((2048, 1536), Image.Resampling.LANCZOS))

    def decode_only(data: bytes) -> None:
        opened(data).load()

    strategies = [
        ("draft(): decode at 1/2 scale (JPEG only)", draft),
        ("full decode + reduce(2)", reduce),
        ("full decode + Lanczos to 2048", lanczos),
        ("full decode alone, nothing else", decode_only),
    ]
    print("4032x3024 to about 2048 px, then JPEG at quality 85:")
    print(f"  {'strategy':<44} {'JPEG':>8} {'HEIC':>8}")
    for name, work in strategies:
        jpeg_ms = f"{_timed(functools.partial(work, jpeg))[0]:.0f} ms"
        heic_ms = "-"
        if heic is not None and work is not draft:
            heic_ms = f"{_timed(functools.partial(work, heic))[0]:.0f} ms"
        print(f"  {name:<44} {jpeg_ms:>8} {heic_ms:>8}")


def main() -> None:
    core = _pin_to_one_core()
    print(f"Pictures: check + decode + clean + re-encode, on CPU {core} only, "
          f"median of {RUNS}")
    _main_table()
    print()
    _decoding_strategies()


if __name__ == "__main__":
    main()
