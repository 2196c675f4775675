"""Frame sources for `parley stream`: each yields JPEG frames, ready to send as they are.

`open_source` turns the command line's ``--source`` into one of them: a generated test
pattern, a folder of JPEG files, an MJPEG file, or a camera through OpenCV.
"""

from __future__ import annotations

import io
import mmap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageDraw, ImageFont

from parley.errors import ApiError
from parley.video.frames import MAX_FRAME_BYTES, MAX_HEIGHT, MAX_WIDTH, SOI, check_frame

from . import EXTRA

JPEG_QUALITY = 80

SOURCE_FORMS = (
    "test (a generated test pattern), a folder of .jpg/.jpeg files, "
    "an .mjpg/.mjpeg file, or camera:N (OpenCV device number N)"
)
CAMERA_NEEDS_OPENCV = f"Camera sources need OpenCV: pip install {EXTRA}"


class SourceError(Exception):
    """A source that cannot be opened or stopped giving frames; the message says why."""


class FrameSource(Protocol):
    """Anything that yields JPEG frames of one declared size."""

    width: int
    height: int

    def frames(self) -> Iterator[bytes]:
        """JPEG frames, one per call to next(), for as long as the source has them."""
        ...

    def close(self) -> None:
        """Let go of files or devices; the source gives no frames afterwards."""
        ...


def open_source(spec: str, fps: int, size: tuple[int, int] = (640, 480)) -> FrameSource:
    """The source ``spec`` names; `size` applies to the test pattern and cameras only."""
    if not spec.strip():
        raise SourceError(f"No source given: use {SOURCE_FORMS}")
    if spec == "test":
        return TestPattern(size, fps)
    if spec.startswith("camera:"):
        index = spec.removeprefix("camera:")
        if not index.isdigit():
            raise SourceError(f"{spec!r}: a camera is camera:N with N a device number")
        return CameraSource(int(index), fps, size)
    path = Path(spec).expanduser()
    if path.is_dir():
        return FolderSource(path)
    if path.suffix.lower() in (".mjpg", ".mjpeg"):
        return MjpegFileSource(path)
    if path.exists():
        raise SourceError(f"{spec!r} is neither a folder nor an .mjpg/.mjpeg file")
    raise SourceError(f"No source {spec!r}: use {SOURCE_FORMS}")


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def servable(data: bytes) -> tuple[int, int]:
    """The frame's width and height when a server with the default limits would take it;
    SourceError with the server's own reason when it would not."""
    try:
        return check_frame(data, MAX_FRAME_BYTES)
    except ApiError as exc:
        raise SourceError(exc.message) from None


# --- the test pattern ----------------------------------------------------------------

BAR_COLOURS = (
    (192, 192, 192),
    (192, 192, 0),
    (0, 192, 192),
    (0, 192, 0),
    (192, 0, 192),
    (192, 0, 0),
    (0, 0, 192),
)


class TestPattern:
    """Colour bars over a grey ramp, a moving white bar, a clock and a frame counter.

    The bars, ramp and label are drawn once; each frame pastes that background, draws the
    bar and two lines of text, and encodes: a few milliseconds at 640x480.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, size: tuple[int, int] = (640, 480), fps: int = 15) -> None:
        self.width, self.height = size
        if not (16 <= self.width <= MAX_WIDTH and 16 <= self.height <= MAX_HEIGHT):
            raise SourceError(f"a test pattern is 16x16 to {MAX_WIDTH}x{MAX_HEIGHT} pixels")
        # The moving bar crosses the picture in about three seconds at any frame rate.
        self._step = max(1, self.width // (3 * max(fps, 1)))
        self._font_size = max(10, self.height // 12)
        self._font = ImageFont.load_default(size=self._font_size)
        self._background = self._draw_background()

    def _draw_background(self) -> Image.Image:
        width, height = self.width, self.height
        image = Image.new("RGB", (width, height))
        draw = ImageDraw.Draw(image)
        bars_bottom = height * 2 // 3
        for i, colour in enumerate(BAR_COLOURS):
            left = width * i // len(BAR_COLOURS)
            right = width * (i + 1) // len(BAR_COLOURS)
            draw.rectangle((left, 0, right - 1, bars_bottom - 1), fill=colour)
        ramp = Image.linear_gradient("L").rotate(90).resize((width, height - bars_bottom))
        image.paste(ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (0, bars_bottom))
        label_font = ImageFont.load_default(size=max(10, height // 16))
        draw.text(
            (width // 40, height // 40),
            "Parley",
            fill="white",
            font=label_font,
            stroke_width=2,
            stroke_fill="black",
        )
        return image

    def frames(self) -> Iterator[bytes]:
        bar_width = max(4, self.width // 40)
        text_x, text_y = self.width // 40, self.height * 2 // 3 + self.height // 30
        line_height = self._font_size * 6 // 5
        count = 0
        while True:
            image = self._background.copy()
            draw = ImageDraw.Draw(image)
            left = (count * self._step) % self.width
            draw.rectangle((left, 0, left + bar_width - 1, self.height - 1), fill="white")
            now = time.time()
            clock = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
            for line, text in enumerate((clock, f"frame {count}")):
                draw.text(
                    (text_x, text_y + line * line_height),
                    text,
                    fill="white",
                    font=self._font,
                    stroke_width=2,
                    stroke_fill="black",
                )
            yield encode_jpeg(image)
            count += 1

    def close(self) -> None:
        pass


# --- a folder of JPEG files ----------------------------------------------------------


class FolderSource:
    """Every .jpg/.jpeg in a folder, in name order, over and over.

    Files are checked once when the folder is opened; the ones that are not JPEGs (or
    that the server would refuse) are left out and listed in `skipped`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        candidates = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file()),
            key=lambda p: p.name,
        )
        if not candidates:
            raise SourceError(f"{folder} holds no .jpg or .jpeg files")
        self.paths: list[Path] = []
        self.skipped: list[str] = []
        sizes: list[tuple[int, int]] = []
        for path in candidates:
            try:
                sizes.append(servable(whole_jpeg(path.read_bytes())))
            except (SourceError, OSError) as exc:
                self.skipped.append(f"{path.name}: {exc}")
                continue
            self.paths.append(path)
        if not self.paths:
            raise SourceError(
                f"{folder} holds no usable JPEG files (skipped {'; '.join(self.skipped)})"
            )
        self.width, self.height = sizes[0]

    def frames(self) -> Iterator[bytes]:
        while True:
            sent = 0
            for path in self.paths:
                try:
                    data = whole_jpeg(path.read_bytes())
                except (OSError, SourceError):
                    continue  # gone or changed since it was checked: play the rest
                sent += 1
                yield data
            if not sent:
                raise SourceError(f"The JPEG files in {self.folder} can no longer be read")

    def close(self) -> None:
        pass


# --- an MJPEG file -------------------------------------------------------------------

EOI_MARKER = 0xD9
SOS_MARKER = 0xDA
# Markers that stand alone, with no length after them: TEM and RST0..RST7.
STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}


def jpeg_end(data: bytes | mmap.mmap, start: int) -> int | None:
    """Where the JPEG that starts (with SOI) at `start` ends, just past its EOI; None when
    it is cut off or malformed.

    Segments are skipped by their lengths, so a thumbnail inside an APP segment (with its
    own SOI and EOI) stays part of its frame; entropy-coded data after each SOS is scanned
    for the next marker, stepping over stuffed 0xFF00 bytes and restart markers.
    """
    size = len(data)
    pos = start + 2
    while pos < size:
        if data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= size:
            return None
        marker = data[pos]
        pos += 1
        if marker == EOI_MARKER:
            return pos
        if marker in STANDALONE_MARKERS:
            continue
        if pos + 2 > size:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            return None
        pos += length
        if marker != SOS_MARKER:
            continue
        # Entropy-coded data runs to the next marker that is not 0xFF00 or RSTn.
        while True:
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= size:
                return None
            following = data[pos + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                pos += 1 if following == 0xFF else 2
                continue
            break
    return None


def whole_jpeg(data: bytes) -> bytes:
    """The JPEG in `data` up to its EOI: the server takes nothing after it (some cameras
    pad their files)."""
    end = jpeg_end(data, 0) if data.startswith(SOI + b"\xff") else None
    if end is None:
        if not data.startswith(SOI + b"\xff"):
            servable(data)  # says what the data is instead, in the server's words
        raise SourceError("a cut-off or malformed JPEG")
    return data[:end]


def split_jpegs(data: bytes | mmap.mmap) -> list[tuple[int, int]]:
    """The (start, end) of each complete JPEG in a stream of them.

    Anything between frames (multipart boundaries and part headers) is skipped over.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        start = data.find(SOI + b"\xff", pos)
        if start < 0:
            return spans
        end = jpeg_end(data, start)
        if end is None:
            pos = start + 2  # not a frame after all, or cut off: look further on
            continue
        spans.append((start, end))
        pos = end


class MjpegFileSource:
    """The frames of an MJPEG file (JPEGs back to back, or multipart), over and over.

    The file is mapped into memory, not read, so a long recording costs no RAM up front.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as file:
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise SourceError(f"No such file: {path}") from None
        except ValueError:  # mmap refuses an empty file
            raise SourceError(f"{path} is empty") from None
        except OSError as exc:
            raise SourceError(f"Cannot read {path}: {exc.strerror or exc}") from None
        self.spans = split_jpegs(self._map)
        if not self.spans:
            self._map.close()
            raise SourceError(f"{path} holds no complete JPEG frames")
        start, end = self.spans[0]
        try:
            self.width, self.height = servable(self._map[start:end])
        except SourceError as exc:
            self._map.close()
            raise SourceError(f"{path}: the first frame cannot be sent: {exc}") from None

    def frames(self) -> Iterator[bytes]:
        while True:
            for start, end in self.spans:
                yield self._map[start:end]

    def close(self) -> None:
        self._map.close()


# --- a camera ------------------------------------------------------------------------


def _import_cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise SourceError(CAMERA_NEEDS_OPENCV) from None
    return cv2


class CameraSource:
    """Frames from an OpenCV capture device, asked for at `size` and `fps`.

    The camera may pick another size; the declared size is that of its first frame.
    """

    def __init__(self, index: int, fps: int, size: tuple[int, int] = (640, 480)) -> None:
        self._cv2 = cv2 = _import_cv2()
        self.index = index
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"Camera {index} could not be opened (is it there, and free?)")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        self._capture.set(cv2.CAP_PROP_FPS, fps)
        # Hold one frame at most, so a slow reader gets the newest picture, not a backlog.
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._first = self._grab()
        self.height, self.width = self._first.shape[:2]
        if self.width > MAX_WIDTH or self.height > MAX_HEIGHT:
            self._capture.release()
            raise SourceError(
                f"Camera {index} gives {self.width}x{self.height} frames, "
                f"more than the {MAX_WIDTH}x{MAX_HEIGHT} the server takes"
            )

    def _grab(self) -> Any:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise SourceError(f"Camera {self.index} stopped giving frames")
        return frame

    def _encode(self, frame: Any) -> bytes:
        ok, encoded = self._cv2.imencode(
            ".jpg", frame, [self._cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        if not ok:
            raise SourceError(f"Camera {self.index}: a frame could not be encoded as JPEG")
        return bytes(encoded)

    def frames(self) -> Iterator[bytes]:
        yield self._encode(self._first)
        while True:
            yield self._encode(self._grab())

    def close(self) -> None:
        self._capture.release()
