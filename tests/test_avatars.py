"""Profile pictures: uploading one (PUT /users/me/avatar), serving it, removing it."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from werkzeug.test import TestResponse

from parley.extensions import db
from parley.models import Avatar
from support import Member, assert_error, bearer

ME_AVATAR = "/api/v1/users/me/avatar"


def avatar_path(user_id: int) -> str:
    return f"/api/v1/users/{user_id}/avatar"


def picture(
    kind: str = "PNG",
    size: tuple[int, int] = (300, 200),
    colour: tuple[int, ...] = (200, 30, 30),
    mode: str = "RGB",
    **save: object,
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, kind, **save)
    return out.getvalue()


def halves(left: tuple[int, int, int], right: tuple[int, int, int]) -> bytes:
    """A 400x200 PNG: its left half one colour, its right half another."""
    image = Image.new("RGB", (400, 200), left)
    image.paste(Image.new("RGB", (200, 200), right), (200, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(
    member: Member, data: bytes, content_type: str = "image/png", query: str = ""
) -> TestResponse:
    return member.request(
        "PUT", ME_AVATAR + query, data=data, headers={"Content-Type": content_type}
    )


def served(member: Member, user_id: int) -> Image.Image:
    response = member.get(avatar_path(user_id))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/webp"
    return Image.open(io.BytesIO(response.get_data()))


def near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= 12 for a, b in zip(pixel[:3], colour, strict=True))


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_an_uploaded_picture_becomes_a_256_square_webp(
    alice: Member, bob: Member, kind: str, content_type: str
) -> None:
    response = upload(alice, picture(kind), content_type)
    assert response.status_code == 200, response.get_json()
    url = response.get_json()["avatar_url"]
    assert url.startswith(f"/api/v1/users/{alice.id}/avatar?v=")
    image = served(bob, alice.id)
    assert image.format == "WEBP" and image.size == (256, 256)
    assert near(image.convert("RGB").getpixel((128, 128)), (200, 30, 30))


def test_the_user_shape_carries_the_picture_url_everywhere(alice: Member, bob: Member) -> None:
    assert alice.get("/api/v1/users/me").get_json()["avatar_url"] is None
    url = upload(alice, picture()).get_json()["avatar_url"]
    assert bob.get(f"/api/v1/users/{alice.id}").get_json()["avatar_url"] == url
    room = alice.post("/api/v1/rooms", json={"name": "general"}).get_json()
    sent = alice.post(f"/api/v1/rooms/{room['id']}/messages", json={"body": "hi"}).get_json()
    assert sent["author"]["avatar_url"] == url
    members = alice.get(f"/api/v1/rooms/{room['id']}/members").get_json()["members"]
    assert [m["user"]["avatar_url"] for m in members] == [url]


def test_a_new_picture_gets_a_new_url(alice: Member) -> None:
    first = upload(alice, picture(colour=(0, 0, 255))).get_json()["avatar_url"]
    second = upload(alice, picture(colour=(0, 255, 0))).get_json()["avatar_url"]
    assert first != second
    assert near(served(alice, alice.id).convert("RGB").getpixel((5, 5)), (0, 255, 0))


def test_without_a_crop_the_centred_square_is_kept(alice: Member) -> None:
    # 400x200, left half red, right half blue: the centred 200 square is half of each.
    upload(alice, halves((255, 0, 0), (0, 0, 255)))
    image = served(alice, alice.id).convert("RGB")
    assert near(image.getpixel((20, 128)), (255, 0, 0))
    assert near(image.getpixel((235, 128)), (0, 0, 255))


def test_a_named_crop_keeps_that_square(alice: Member) -> None:
    response = upload(alice, halves((255, 0, 0), (0, 0, 255)), query="?x=200&y=0&size=200")
    assert response.status_code == 200
    image = served(alice, alice.id).convert("RGB")
    assert near(image.getpixel((5, 5)), (0, 0, 255)) and near(
        image.getpixel((250, 250)), (0, 0, 255)
    )


def test_the_exif_orientation_is_applied_and_all_metadata_dropped(alice: Member) -> None:
    # 200x100 stored sideways with orientation 6 (rotate 90): upright it is 100x200, so a
    # crop 100 high starting at y=100 fits only if the server turned it upright first.
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010E] = "secret place"
    data = picture("JPEG", (200, 100), exif=exif.tobytes())
    response = upload(alice, data, "image/jpeg", "?x=0&y=100&size=100")
    assert response.status_code == 200, response.get_json()
    raw = alice.get(avatar_path(alice.id)).get_data()
    assert b"secret place" not in raw and b"Exif" not in raw
    assert not Image.open(io.BytesIO(raw)).getexif()


def test_a_transparent_picture_keeps_its_transparency(alice: Member) -> None:
    upload(alice, picture(mode="RGBA", colour=(10, 20, 30, 0)))
    pixel = served(alice, alice.id).convert("RGBA").getpixel((100, 100))
    assert isinstance(pixel, tuple) and pixel[3] == 0


def test_the_first_frame_of_an_animated_gif_is_kept(alice: Member) -> None:
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert upload(alice, out.getvalue(), "image/gif").status_code == 200
    assert near(served(alice, alice.id).convert("RGB").getpixel((128, 128)), (255, 0, 0))


def test_a_file_that_is_not_a_picture_is_refused_and_changes_nothing(
    app: Flask, alice: Member
) -> None:
    upload(alice, picture())
    before = alice.get("/api/v1/users/me").get_json()["avatar_url"]
    for data in (b"not an image at all", b"", picture("BMP")):
        error = assert_error(upload(alice, data), 422, "invalid_image")
        assert "PNG, JPEG, WebP or GIF" in error["message"]
    assert alice.get("/api/v1/users/me").get_json()["avatar_url"] == before


def test_a_damaged_picture_is_refused(alice: Member) -> None:
    data = picture("PNG", (300, 300))
    assert_error(upload(alice, data[: len(data) // 2]), 422, "invalid_image")


def test_a_media_type_other_than_an_image_is_refused(alice: Member) -> None:
    error = assert_error(
        upload(alice, picture(), "application/json"), 415, "unsupported_media_type"
    )
    assert "image/png" in error["details"]["accepted"]


def test_a_picture_over_the_size_limit_is_refused(app: Flask, alice: Member) -> None:
    limit = app.config["PARLEY_AVATAR_MAX_BYTES"]
    big = picture("PNG", (64, 64)) + b"\0" * limit
    error = assert_error(upload(alice, big), 413)
    assert str(limit) in error["message"] or error["details"].get("max_bytes") == limit
    assert alice.get("/api/v1/users/me").get_json()["avatar_url"] is None


def test_a_chunked_upload_over_the_limit_is_refused(app: Flask, alice: Member) -> None:
    big = picture("PNG", (64, 64)) + b"\0" * app.config["PARLEY_AVATAR_MAX_BYTES"]
    response = alice.request(
        "PUT",
        ME_AVATAR,
        input_stream=io.BytesIO(big),
        headers={"Content-Type": "image/png", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")
    assert alice.get("/api/v1/users/me").get_json()["avatar_url"] is None


def test_a_picture_larger_than_other_bodies_but_within_its_limit_is_taken(
    app: Flask, alice: Member
) -> None:
    # Noise does not compress: a PNG larger than MAX_CONTENT_LENGTH (1 MiB).
    noise = Image.frombytes("RGB", (800, 800), bytes(range(256)) * 7500)
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    assert (
        app.config["MAX_CONTENT_LENGTH"]
        < len(out.getvalue())
        < app.config["PARLEY_AVATAR_MAX_BYTES"]
    )
    assert upload(alice, out.getvalue()).status_code == 200


def test_an_enormous_canvas_is_refused_before_decoding(alice: Member) -> None:
    data = picture("PNG", (9000, 9000), mode="1", colour=(0,))
    assert len(data) < 1024 * 1024
    assert_error(upload(alice, data), 422, "invalid_image")


@pytest.mark.parametrize(
    "query",
    ["?x=0&y=0&size=201", "?x=250&y=0&size=200", "?x=0&y=0", "?x=-1&y=0&size=5", "?x=0&y=0&size=0"],
)
def test_a_crop_that_does_not_fit_or_is_incomplete_is_refused(alice: Member, query: str) -> None:
    assert_error(upload(alice, halves((1, 2, 3), (4, 5, 6)), query=query), 422)
    assert alice.get("/api/v1/users/me").get_json()["avatar_url"] is None


def test_removing_the_picture_brings_back_the_letter_tile(alice: Member, bob: Member) -> None:
    upload(alice, picture())
    response = alice.delete(ME_AVATAR)
    assert response.status_code == 200 and response.get_json()["avatar_url"] is None
    assert_error(bob.get(avatar_path(alice.id)), 404, "no_avatar")
    assert alice.delete(ME_AVATAR).status_code == 200


def test_a_user_without_a_picture_or_no_such_user_is_404(alice: Member) -> None:
    assert_error(alice.get(avatar_path(alice.id)), 404, "no_avatar")
    assert_error(alice.get(avatar_path(99999)), 404, "no_avatar")


def test_pictures_are_served_only_to_logged_in_users(alice: Member, app: Flask) -> None:
    upload(alice, picture())
    anonymous = app.test_client()
    assert_error(anonymous.get(avatar_path(alice.id)), 401)
    assert_error(anonymous.put(ME_AVATAR, data=picture(), content_type="image/png"), 401)
    assert_error(anonymous.delete(ME_AVATAR, headers=bearer("not-a-token")), 401)


def test_one_can_change_only_ones_own_picture(alice: Member, bob: Member) -> None:
    upload(alice, picture(colour=(255, 0, 0)))
    # There is no route to another's picture: PUT and DELETE name only "me".
    assert (
        bob.request(
            "PUT", avatar_path(alice.id), data=picture(), headers={"Content-Type": "image/png"}
        ).status_code
        == 405
    )
    assert bob.delete(avatar_path(alice.id)).status_code == 405
    upload(bob, picture(colour=(0, 255, 0)))
    assert near(served(bob, alice.id).convert("RGB").getpixel((5, 5)), (255, 0, 0))


def test_the_picture_is_cached_privately_and_revalidated_by_etag(
    alice: Member, bob: Member
) -> None:
    url = upload(alice, picture()).get_json()["avatar_url"]
    current = bob.get(url)
    assert current.headers["Cache-Control"].startswith("private, max-age=")
    assert current.headers["X-Content-Type-Options"] == "nosniff"
    assert current.headers["Content-Security-Policy"].startswith("default-src 'none'")
    etag = current.headers["ETag"]
    unversioned = bob.get(avatar_path(alice.id))
    assert unversioned.headers["Cache-Control"] == "private, no-cache"
    again = bob.get(avatar_path(alice.id), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    upload(alice, picture(colour=(1, 2, 3)))
    assert bob.get(avatar_path(alice.id), headers={"If-None-Match": etag}).status_code == 200


def test_a_new_picture_replaces_the_stored_one(app: Flask, alice: Member) -> None:
    upload(alice, picture())
    upload(alice, picture(colour=(9, 9, 9)))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Avatar)) == 1
