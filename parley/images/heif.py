"""HEIC/HEIF decoding through pillow-heif, an optional extra (`parley[heif]`).

pillow-heif's wheels bundle x265 and so are GPL-2.0 as a whole; like piper-tts, it stays an
opt-in extra so the core package remains Apache-2.0. Without it, HEIC is refused (415) with
a message that says to send a JPEG.
"""

from __future__ import annotations

import functools
import importlib

NO_HEIF = (
    "This server can't read HEIC photos. Send it as a JPEG instead (on an iPhone: "
    "Settings > Camera > Formats > Most Compatible, or share it as a screenshot)."
)


@functools.cache
def heif_available() -> bool:
    """Whether HEIC/HEIF can be decoded here; registers pillow-heif with Pillow on first call."""
    try:
        pillow_heif = importlib.import_module("pillow_heif")
    except ImportError:
        return False
    # Parley sends one picture upstream: thumbnails, depth maps and auxiliary images would
    # only be decoded to be dropped. One decoding thread per picture: concurrent requests
    # already keep the cores busy, and a JPEG decodes on one thread too.
    pillow_heif.register_heif_opener(
        thumbnails=False, depth_images=False, aux_images=False, decode_threads=1
    )
    return True
