"""Which picture format some bytes really are, from their magic bytes, never their label."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from parley import errors


class ImageFormat(StrEnum):
    """The formats Parley takes in."""

    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    HEIF = "heif"  # HEIC is HEIF holding HEVC pictures: one family, one decoder

    @property
    def pillow_name(self) -> str:
        """The format name Pillow's plugin registers."""
        return self.name

    @property
    def label(self) -> str:
        """The format's name as a person knows it."""
        return {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "heif": "HEIC"}[self.value]


MEDIA_TYPES: Final[dict[str, ImageFormat]] = {
    "image/png": ImageFormat.PNG,
    "image/jpeg": ImageFormat.JPEG,
    "image/webp": ImageFormat.WEBP,
    "image/heic": ImageFormat.HEIF,
    "image/heif": ImageFormat.HEIF,
    "image/heic-sequence": ImageFormat.HEIF,
    "image/heif-sequence": ImageFormat.HEIF,
}

# ISO base media file brands (ISO/IEC 23008-12). AVIF shares the container and the generic
# `mif1`/`msf1` brands with HEIC, so an AVIF brand anywhere in `ftyp` makes the file AVIF.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})

SEND_INSTEAD: Final = "Send a PNG, JPEG, WebP or HEIC."
_REFUSED: Final = {
    "gif": "Parley can't read GIFs. Send a PNG or JPEG instead (a screenshot works).",
    "svg": "Parley can't read SVG drawings. Export it as a PNG and attach that.",
    "avif": f"Parley can't read AVIF pictures. {SEND_INSTEAD}",
    "pdf": "Parley can't read PDFs. Take a screenshot of the page and attach that.",
    "tiff": f"Parley can't read TIFF pictures. {SEND_INSTEAD}",
    "bmp": f"Parley can't read BMP pictures. {SEND_INSTEAD}",
}
NOT_A_PICTURE: Final = f"That file isn't a picture Parley can read. {SEND_INSTEAD}"
_SVG: Final = re.compile(rb"<svg[\s>/]", re.IGNORECASE)


def _ftyp_kind(data: bytes) -> str | None:
    """"heif", "avif" or None for an ISO base media file's `ftyp` box."""
    if data[4:8] != b"ftyp":
        return None
    size = int.from_bytes(data[0:4], "big")
    if not 16 <= size <= min(len(data), 4096) or size % 4:
        return None
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, size, 4)}
    brands = {major} | compatible
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


def _kind(data: bytes) -> str | None:
    """A name for what `data` is, taken or refused, or None when nothing matches."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[0:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    ftyp = _ftyp_kind(data)
    if ftyp is not None:
        return ftyp
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data.startswith(b"BM") and len(data) > 26 and data[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    if _SVG.search(data[:4096]):  # SVG is XML text: `<?xml`, comments or a doctype may lead
        return "svg"
    return None


def sniff(data: bytes) -> ImageFormat:
    """The format of `data` by its magic bytes; 415 `unsupported_image` for anything else."""
    kind = _kind(data)
    if kind is None:
        raise errors.UnsupportedImage(NOT_A_PICTURE)
    if kind in _REFUSED:
        raise errors.UnsupportedImage(_REFUSED[kind])
    return ImageFormat(kind)


def check_label(media_type: str, actual: ImageFormat) -> None:
    """Refuse (415) a data URL whose media type is not the format its bytes really are."""
    declared = MEDIA_TYPES.get(media_type)
    if declared is actual:
        return
    if declared is None:
        raise errors.UnsupportedImage(
            f"That picture was sent as {media_type}, which Parley doesn't take. {SEND_INSTEAD}"
        )
    raise errors.UnsupportedImage(
        f"That file says it is a {declared.label} but it is really a {actual.label}. "
        "Attach the original picture again."
    )
