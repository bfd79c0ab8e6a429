"""Pictures in a turn: checked, decoded for real, cleaned of metadata, downsized, re-encoded.

`check_request` refuses what it can without decoding; `prepare_request` (async, in a worker
thread) or `prepare_image` (sync) turn data URLs into `PreparedImage`s ready to go upstream;
`require_vision` refuses a model that cannot see them; `realtime_sees` says whether a
realtime call can be shown them.
"""

from parley.images.formats import ImageFormat
from parley.images.limits import DEFAULT_LIMITS, ImageLimits
from parley.images.prepare import (
    PreparedImage,
    check_request,
    prepare_all,
    prepare_image,
    prepare_request,
)
from parley.images.vision import realtime_sees, require_vision

__all__ = [
    "DEFAULT_LIMITS",
    "ImageFormat",
    "ImageLimits",
    "PreparedImage",
    "check_request",
    "prepare_all",
    "prepare_image",
    "prepare_request",
    "realtime_sees",
    "require_vision",
]
