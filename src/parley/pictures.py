"""Profile pictures from uploads: the one decoder, cropper and encoder of avatars.

An upload is read only as PNG, JPEG, WebP or GIF (the first frame of an animation),
turned upright by its EXIF orientation, cropped to a square (the centred one, or the
one the client names in the upright image's pixels), resized to SIZE x SIZE and
encoded afresh as WebP: nothing of the uploaded file but its pixels is kept, so no
metadata (location, camera, comments) and no crafted bytes reach other people.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from .errors import ApiError

SIZE = 256
MEDIA_TYPE = "image/webp"
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# What a server takes unless PARLEY_AVATAR_MAX_BYTES says otherwise.
MAX_BYTES = 5 * 1024 * 1024
# A small file may still claim an enormous canvas (a decompression bomb): its header
# is read first, and pictures over this many pixels are refused before decoding.
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Crop:
    """A square in the upright picture: its top-left corner and side, in pixels."""

    x: int
    y: int
    size: int


@dataclass(frozen=True)
class Picture:
    image: bytes
    media_type: str
    key: str


def not_a_picture(message: str, **details: object) -> ApiError:
    return ApiError(message, code="invalid_image", status=422, details=dict(details))


def make_avatar(data: bytes, crop: Crop | None = None, max_bytes: int = MAX_BYTES) -> Picture:
    """The avatar made from an uploaded file; refuses anything not a picture we read."""
    if len(data) > max_bytes:
        raise ApiError(
            f"The picture is {len(data)} bytes; it may be at most {max_bytes} bytes.",
            code="image_too_large",
            status=413,
            details={"max_bytes": max_bytes, "bytes": len(data)},
        )
    if not data:
        raise not_a_picture("The upload is empty: send a PNG, JPEG, WebP or GIF picture.")
    with warnings.catch_warnings():
        # Pillow warns of large canvases and odd but readable chunks; MAX_PIXELS decides.
        warnings.simplefilter("ignore")
        try:
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
        except Exception:
            raise not_a_picture(
                "That file is not a picture this server reads: send a PNG, JPEG, WebP or GIF."
            ) from None
        with opened:
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise not_a_picture(
                    f"The picture is {width}x{height} pixels; at most {MAX_PIXELS} pixels"
                    " are read.",
                    width=width,
                    height=height,
                )
            try:
                opened.seek(0)
                upright = ImageOps.exif_transpose(opened)
                pixels = upright.convert("RGBA" if _has_alpha(opened) else "RGB")
            except Exception:
                raise not_a_picture("The picture is damaged and cannot be read.") from None
    square = _square(pixels, crop)
    resized = pixels.resize((SIZE, SIZE), Image.Resampling.LANCZOS, box=square)
    out = io.BytesIO()
    resized.save(out, "WEBP", quality=85, method=4)
    encoded = out.getvalue()
    return Picture(encoded, MEDIA_TYPE, hashlib.sha256(encoded).hexdigest()[:16])


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info


def _square(image: Image.Image, crop: Crop | None) -> tuple[int, int, int, int]:
    width, height = image.size
    if crop is None:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        return left, top, left + side, top + side
    if crop.x + crop.size > width or crop.y + crop.size > height:
        raise ApiError(
            f"The square {crop.size}px at ({crop.x}, {crop.y}) does not fit the"
            f" {width}x{height} picture.",
            code="crop_outside",
            status=422,
            details={"width": width, "height": height},
        )
    return crop.x, crop.y, crop.x + crop.size, crop.y + crop.size
