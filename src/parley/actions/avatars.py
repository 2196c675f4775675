"""Profile pictures: set, remove, and read one, for any transport.

A change is told to everyone connected as `user:update` once committed, with the new
`avatar_url`, so every page showing the person swaps the picture without a reload.
"""

from __future__ import annotations

from flask import current_app

from ..errors import NotFound
from ..extensions import db
from ..models import Avatar, Permission, User
from ..models.types import utcnow
from ..pictures import Crop, make_avatar
from .access import require_active, require_permission
from .accounts import announce_profile


def set_avatar(actor: User, data: bytes, crop: Crop | None = None) -> User:
    """Make the upload the actor's picture: decoded, cropped, resized, re-encoded."""
    require_active(actor)
    picture = make_avatar(data, crop, int(current_app.config["PARLEY_AVATAR_MAX_BYTES"]))
    row = db.session.get(Avatar, actor.id)
    if row is None:
        row = Avatar(user_id=actor.id)
        db.session.add(row)
    row.image = picture.image
    row.media_type = picture.media_type
    row.updated_at = utcnow()
    actor.avatar_key = picture.key
    announce_profile(actor)
    db.session.commit()
    return actor


def remove_avatar(actor: User) -> User:
    """Back to the letter tile; removing no picture changes nothing and tells no one."""
    require_active(actor)
    row = db.session.get(Avatar, actor.id)
    if row is None and actor.avatar_key is None:
        return actor
    if row is not None:
        db.session.delete(row)
    actor.avatar_key = None
    announce_profile(actor)
    db.session.commit()
    return actor


def avatar_of(actor: User, user_id: int) -> tuple[Avatar, str]:
    """A user's picture and its key (the ETag), for anyone logged in who may read."""
    require_permission(actor, Permission.READ)
    user = db.session.get(User, user_id)
    row = db.session.get(Avatar, user_id) if user is not None else None
    if user is None or row is None or user.avatar_key is None:
        raise NotFound("No such picture.", code="no_avatar", details={"user_id": user_id})
    return row, user.avatar_key
