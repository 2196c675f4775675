"""What a broadcaster may send: a JPEG of bounded size and dimensions."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from ..errors import ApiError

MAX_WIDTH, MAX_HEIGHT = 1920, 1080
SOI, EOI = b"\xff\xd8", b"\xff\xd9"


def invalid(message: str, **details: object) -> ApiError:
    return ApiError(message, code="invalid_frame", status=422, details=dict(details))


def check_frame(data: object, max_bytes: int) -> tuple[int, int]:
    """The frame's width and height, read from its header; refuses anything else."""
    if not isinstance(data, bytes | bytearray):
        raise invalid("Send the frame as binary JPEG data.")
    if len(data) > max_bytes:
        raise ApiError(
            f"A frame may be at most {max_bytes} bytes.",
            code="frame_too_large",
            status=413,
            details={"max_bytes": max_bytes, "bytes": len(data)},
        )
    if not (data.startswith(SOI + b"\xff") and data.endswith(EOI)):
        raise invalid("The frame is not a JPEG (start and end markers).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd but readable headers
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                kind, (width, height) = image.format, image.size
    except Exception:
        raise invalid("The frame's JPEG header cannot be read.") from None
    if kind != "JPEG":
        raise invalid("The frame is not a JPEG.")
    if width > MAX_WIDTH or height > MAX_HEIGHT:
        raise invalid(
            f"A frame may be at most {MAX_WIDTH}x{MAX_HEIGHT}.", width=width, height=height
        )
    return width, height
