"""What a broadcaster may send: a JPEG of bounded size and dimensions.

The one definition of a valid frame and of the limits: the server checks every frame it
is sent with `check_frame`, and the broadcaster client (`parley_stream`) checks the
files it will send with the same function, so the two can never disagree. Pillow is
all it needs, which both sides have.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from ..errors import ApiError

MAX_WIDTH, MAX_HEIGHT = 1920, 1080
# What a server takes unless PARLEY_VIDEO_MAX_FRAME_BYTES says otherwise.
MAX_FRAME_BYTES = 512 * 1024
SOI, EOI = b"\xff\xd8", b"\xff\xd9"


def invalid(message: str, **details: object) -> ApiError:
    return ApiError(message, code="invalid_frame", status=422, details=dict(details))


def check_frame(data: object, max_bytes: int = MAX_FRAME_BYTES) -> tuple[int, int]:
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
            f"The frame is {width}x{height}; a frame may be at most {MAX_WIDTH}x{MAX_HEIGHT}.",
            width=width,
            height=height,
        )
    return width, height
