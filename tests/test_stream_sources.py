"""The broadcaster client's frame sources: the test pattern, JPEG folders, MJPEG files, cameras."""

from __future__ import annotations

import io
import itertools
import os
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

from parley.video.frames import MAX_FRAME_BYTES
from parley_stream.sources import (
    CAMERA_NEEDS_OPENCV,
    FolderSource,
    FrameSource,
    MjpegFileSource,
    SourceError,
    TestPattern,
    open_source,
    split_jpegs,
)


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", **save)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def take(source: FrameSource, count: int) -> list[bytes]:
    return list(itertools.islice(source.frames(), count))


RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


# --- the test pattern ----------------------------------------------------------------


def test_test_pattern_yields_decodable_jpegs_of_its_size() -> None:
    source = open_source("test", fps=15)
    assert (source.width, source.height) == (640, 480)
    for frame in take(source, 5):
        assert decoded(frame).size == (640, 480)


def test_test_pattern_frames_differ_from_one_to_the_next() -> None:
    frames = take(TestPattern((320, 240), fps=30), 4)
    assert len(set(frames)) == 4
    first, second = (decoded(f).convert("L") for f in frames[:2])
    assert first.tobytes() != second.tobytes()


def test_test_pattern_takes_another_size() -> None:
    source = open_source("test", fps=10, size=(320, 180))
    assert decoded(take(source, 1)[0]).size == (320, 180)


# --- a folder of JPEGs ---------------------------------------------------------------


def test_folder_source_loops_over_its_jpegs_in_name_order(tmp_path: Path) -> None:
    # Written out of order; the middle one with an upper-case suffix.
    (tmp_path / "b.JPG").write_bytes(jpeg(GREEN))
    (tmp_path / "c.jpeg").write_bytes(jpeg(BLUE))
    (tmp_path / "a.jpg").write_bytes(jpeg(RED))
    (tmp_path / "notes.txt").write_text("not a frame")
    source = open_source(str(tmp_path), fps=15)
    assert (source.width, source.height) == (64, 48)
    frames = take(source, 7)
    expected = [(tmp_path / name).read_bytes() for name in ("a.jpg", "b.JPG", "c.jpeg")]
    assert frames == [*expected, *expected, expected[0]]


def test_folder_source_skips_files_that_are_not_jpegs_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "1.jpg").write_bytes(jpeg(RED))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    (tmp_path / "2.jpg").write_bytes(png.getvalue())
    (tmp_path / "3.jpg").write_bytes(b"garbage")
    (tmp_path / "4.jpg").write_bytes(jpeg(BLUE)[:200])  # cut off
    source = open_source(str(tmp_path), fps=15)
    assert isinstance(source, FolderSource)
    assert [s.split(":")[0] for s in source.skipped] == ["2.jpg", "3.jpg", "4.jpg"]
    # In the server's words where the server would say why; a cut-off file, as that.
    assert source.skipped[0] == "2.jpg: The frame is not a JPEG (start and end markers)."
    assert source.skipped[2] == "4.jpg: a cut-off or malformed JPEG"
    assert take(source, 2) == [(tmp_path / "1.jpg").read_bytes()] * 2


def test_folder_source_sends_a_padded_jpeg_without_its_padding(tmp_path: Path) -> None:
    frame = jpeg(RED)
    (tmp_path / "padded.jpg").write_bytes(frame + b"\0" * 100)
    assert take(open_source(str(tmp_path), fps=15), 1) == [frame]


def test_folder_source_skips_frames_larger_than_the_server_takes(tmp_path: Path) -> None:
    (tmp_path / "big.jpg").write_bytes(jpeg(RED, size=(1921, 1080)))
    (tmp_path / "ok.jpg").write_bytes(jpeg(GREEN))
    source = open_source(str(tmp_path), fps=15)
    assert isinstance(source, FolderSource)
    assert source.skipped == ["big.jpg: The frame is 1921x1080; a frame may be at most 1920x1080."]
    assert (source.width, source.height) == (64, 48)


def noise_jpeg(size: tuple[int, int]) -> bytes:
    """A JPEG of random pixels: it compresses badly, so it is large in bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_folder_source_skips_frames_over_the_servers_byte_limit(tmp_path: Path) -> None:
    heavy = noise_jpeg((1024, 768))
    assert len(heavy) > MAX_FRAME_BYTES
    (tmp_path / "heavy.jpg").write_bytes(heavy)
    (tmp_path / "light.jpg").write_bytes(jpeg(GREEN))
    source = open_source(str(tmp_path), fps=15)
    assert isinstance(source, FolderSource)
    assert source.skipped == [f"heavy.jpg: A frame may be at most {MAX_FRAME_BYTES} bytes."]


def test_folder_source_refuses_a_folder_without_jpegs(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing to see")
    with pytest.raises(SourceError, match=r"holds no \.jpg or \.jpeg files"):
        open_source(str(tmp_path), fps=15)


def test_folder_source_refuses_a_folder_of_broken_jpegs(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"not really")
    with pytest.raises(SourceError, match=r"no usable JPEG files .*a\.jpg"):
        open_source(str(tmp_path), fps=15)


# --- MJPEG files ---------------------------------------------------------------------


def frames_in_colours() -> list[bytes]:
    # One progressive frame (several scans) and one with an EXIF block among plain ones.
    exif = Image.Exif()
    exif[0x010F] = "Parley"  # the camera maker
    return [
        jpeg(RED),
        jpeg(GREEN, progressive=True),
        jpeg(BLUE, exif=exif),
        jpeg((200, 200, 0), size=(64, 48), quality=20),
    ]


def test_mjpeg_file_of_concatenated_jpegs_splits_back_into_them_and_loops(tmp_path: Path) -> None:
    frames = frames_in_colours()
    path = tmp_path / "clip.mjpg"
    path.write_bytes(b"".join(frames))
    source = open_source(str(path), fps=15)
    assert (source.width, source.height) == (64, 48)
    assert take(source, 6) == [*frames, *frames[:2]]
    source.close()


def test_mjpeg_file_with_multipart_boundaries_splits_into_its_frames(tmp_path: Path) -> None:
    frames = frames_in_colours()
    parts = b"".join(
        b"--frame\r\nContent-Type: image/jpeg\r\n"
        + f"Content-Length: {len(f)}\r\n\r\n".encode()
        + f
        + b"\r\n"
        for f in frames
    )
    path = tmp_path / "camera.MJPEG"
    path.write_bytes(parts + b"--frame--\r\n")
    source = open_source(str(path), fps=15)
    assert take(source, len(frames)) == frames
    source.close()


def test_a_thumbnail_inside_a_frame_stays_part_of_that_frame() -> None:
    thumbnail = jpeg(RED, size=(16, 12))
    # An APP1 segment carrying a whole JPEG, as EXIF thumbnails do.
    app1 = b"\xff\xe1" + (len(thumbnail) + 2).to_bytes(2, "big") + thumbnail
    main = jpeg(BLUE)
    with_thumbnail = main[:2] + app1 + main[2:]
    assert decoded(with_thumbnail).size == (64, 48)
    stream = with_thumbnail + jpeg(GREEN)
    assert split_jpegs(stream) == [
        (0, len(with_thumbnail)),
        (len(with_thumbnail), len(stream)),
    ]


def test_a_cut_off_last_frame_is_left_out(tmp_path: Path) -> None:
    whole, cut = jpeg(RED), jpeg(GREEN)
    path = tmp_path / "clip.mjpg"
    path.write_bytes(whole + cut[: len(cut) // 2])
    source = MjpegFileSource(path)
    assert take(source, 3) == [whole] * 3
    source.close()


def test_an_mjpeg_file_without_frames_is_refused(tmp_path: Path) -> None:
    empty, text = tmp_path / "empty.mjpg", tmp_path / "text.mjpeg"
    empty.write_bytes(b"")
    text.write_bytes(b"--frame\r\n\r\nhello")
    with pytest.raises(SourceError, match="is empty"):
        open_source(str(empty), fps=15)
    with pytest.raises(SourceError, match="holds no complete JPEG frames"):
        open_source(str(text), fps=15)
    with pytest.raises(SourceError, match="No such file"):
        open_source(str(tmp_path / "missing.mjpg"), fps=15)


def test_an_mjpeg_file_whose_first_frame_the_server_would_refuse_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.mjpg"
    path.write_bytes(jpeg(RED, size=(2000, 100)) + jpeg(GREEN))
    with pytest.raises(SourceError, match=r"the first frame cannot be sent: The frame is 2000x100"):
        open_source(str(path), fps=15)


# --- cameras and bad specs -----------------------------------------------------------


def test_camera_without_opencv_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # makes `import cv2` fail
    with pytest.raises(SourceError) as raised:
        open_source("camera:0", fps=15)
    assert str(raised.value) == CAMERA_NEEDS_OPENCV
    assert 'pip install "parley[stream]"' in str(raised.value)


class FakeFrame:
    """What cv2 reads from a camera (a numpy array); only its shape matters here."""

    def __init__(self, number: int, width: int, height: int) -> None:
        self.number = number
        self.shape = (height, width, 3)


class FakeCapture:
    def __init__(self, cv2: FakeCv2, index: int) -> None:
        self.cv2 = cv2
        self.index = index
        self.settings: dict[int, float] = {}
        self.read_count = 0
        self.released = False

    def isOpened(self) -> bool:
        return self.index in self.cv2.devices

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return True

    def read(self) -> tuple[bool, FakeFrame | None]:
        if self.read_count >= self.cv2.frames:
            return False, None
        self.read_count += 1
        return True, FakeFrame(self.read_count, *self.cv2.devices[self.index])

    def release(self) -> None:
        self.released = True


class FakeCv2(types.ModuleType):
    """Enough of OpenCV for CameraSource: capture devices and a JPEG encoder."""

    CAP_PROP_FRAME_WIDTH, CAP_PROP_FRAME_HEIGHT, CAP_PROP_FPS, CAP_PROP_BUFFERSIZE = 3, 4, 5, 38
    IMWRITE_JPEG_QUALITY = 1

    def __init__(self, devices: dict[int, tuple[int, int]], frames: int = 100) -> None:
        super().__init__("cv2")
        self.devices = devices  # index -> (width, height)
        self.frames = frames  # how many each capture gives before failing
        self.captures: list[FakeCapture] = []

    def VideoCapture(self, index: int) -> FakeCapture:
        capture = FakeCapture(self, index)
        self.captures.append(capture)
        return capture

    def imencode(self, ext: str, frame: FakeFrame, params: list[int]) -> tuple[bool, bytes]:
        assert (ext, params) == (".jpg", [self.IMWRITE_JPEG_QUALITY, 80])
        height, width, _ = frame.shape
        return True, jpeg((frame.number % 256, 0, 0), size=(width, height))


def test_camera_frames_are_encoded_as_jpegs_of_the_cameras_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cv2 = FakeCv2({0: (320, 240)})
    monkeypatch.setitem(sys.modules, "cv2", cv2)
    source = open_source("camera:0", fps=12)
    # The camera was asked for 640x480 at 12 fps and gave 320x240: its size wins.
    (capture,) = cv2.captures
    assert capture.settings[cv2.CAP_PROP_FRAME_WIDTH] == 640
    assert capture.settings[cv2.CAP_PROP_FPS] == 12
    assert (source.width, source.height) == (320, 240)
    frames = take(source, 3)
    assert [decoded(f).size for f in frames] == [(320, 240)] * 3
    assert len(set(frames)) == 3
    source.close()
    assert capture.released


def test_a_camera_that_cannot_be_opened_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    cv2 = FakeCv2({0: (320, 240)})
    monkeypatch.setitem(sys.modules, "cv2", cv2)
    with pytest.raises(SourceError, match="Camera 2 could not be opened"):
        open_source("camera:2", fps=15)
    assert cv2.captures[0].released


def test_a_camera_that_stops_giving_frames_ends_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", FakeCv2({0: (160, 120)}, frames=2))
    source = open_source("camera:0", fps=15)
    frames = source.frames()
    assert len([next(frames), next(frames)]) == 2
    with pytest.raises(SourceError, match="Camera 0 stopped giving frames"):
        next(frames)


def test_camera_needs_a_device_number() -> None:
    with pytest.raises(SourceError, match="camera:N"):
        open_source("camera:front", fps=15)


@pytest.mark.parametrize("spec", ["", "tset", "nowhere/at/all", "movie.mp4"])
def test_an_unknown_source_lists_the_forms_a_source_takes(spec: str) -> None:
    with pytest.raises(SourceError, match=r"test .*folder.*\.mjpg.*camera:N"):
        open_source(spec, fps=15)


def test_an_existing_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    picture = tmp_path / "still.jpg"
    picture.write_bytes(jpeg(RED))
    with pytest.raises(SourceError, match=r"neither a folder nor an \.mjpg/\.mjpeg file"):
        open_source(str(picture), fps=15)
