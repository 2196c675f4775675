"""Live video: starting a broadcast, and a room's live state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .base import RequestBody, Response
from .fields import Id
from .users import UserPublic

Width = Annotated[int, Field(ge=16, le=1920)]
Height = Annotated[int, Field(ge=16, le=1080)]
Fps = Annotated[int, Field(ge=1, le=60)]


class LiveIn(RequestBody):
    width: Width
    height: Height
    fps: Fps = 15


class VideoStartEvent(LiveIn):
    room_id: Id


class LiveOut(Response):
    room_id: int
    broadcaster: UserPublic
    width: int
    height: int
    fps: int
    started_at: datetime
    viewers: int
