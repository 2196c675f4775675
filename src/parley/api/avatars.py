"""/users/me/avatar and /users/{id}/avatar: profile pictures, uploaded and served."""

from __future__ import annotations

from flask import Response, current_app, request

from ..actions import avatars
from ..models import User
from ..pictures import MEDIA_TYPE, Crop
from ..presenters import user_out
from ..schemas.users import AvatarCrop, UserOut
from .blueprint import api

UPLOAD_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def _upload_limit() -> int:
    return int(current_app.config["PARLEY_AVATAR_MAX_BYTES"])


@api.route(
    "PUT",
    "/users/me/avatar",
    tag="users",
    query=AvatarCrop,
    response=UserOut,
    upload=UPLOAD_TYPES,
    upload_limit=_upload_limit,
)
def set_avatar(actor: User, query: AvatarCrop, data: bytes) -> UserOut:
    """Set your profile picture: send the image itself as the body, with its Content-Type.

    PNG, JPEG, WebP or GIF (its first frame), up to PARLEY_AVATAR_MAX_BYTES (5 MiB; 413
    image_too_large beyond). The server keeps a square, the centred one unless x, y and
    size name another in the upright picture's pixels (422 crop_outside when it does not
    fit), resized to 256x256 and re-encoded without any metadata. Anything it cannot read
    as a picture is 422 invalid_image. Everyone connected hears `user:update`.
    """
    crop = None
    if query.x is not None and query.y is not None and query.size is not None:
        crop = Crop(query.x, query.y, query.size)
    return user_out(avatars.set_avatar(actor, data, crop))


@api.route("DELETE", "/users/me/avatar", tag="users", response=UserOut)
def remove_avatar(actor: User) -> UserOut:
    """Remove your profile picture: others see your letter tile again."""
    return user_out(avatars.remove_avatar(actor))


@api.route("GET", "/users/<id:user_id>/avatar", tag="users", produces=MEDIA_TYPE, also=(304,))
def get_avatar(actor: User, user_id: int) -> Response:
    """A user's profile picture (256x256 WebP); 404 no_avatar when they have none.

    Its avatar_url carries the picture's version: at that URL the answer never changes
    and may be cached for long; at any other, the ETag revalidates (304).
    """
    row, key = avatars.avatar_of(actor, user_id)
    current = request.args.get("v") == key
    headers = {
        "ETag": f'"{key}"',
        "Cache-Control": "private, max-age=31536000, immutable" if current else "private, no-cache",
    }
    if request.if_none_match.contains(key):
        return Response(status=304, headers=headers)
    return Response(
        row.image,
        mimetype=row.media_type,
        headers={
            **headers,
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        },
    )
