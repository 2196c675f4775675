"""The REST API under /api/v1."""

from . import (  # noqa: F401  (each declares its routes)
    admin,
    auth,
    avatars,
    messages,
    rooms,
    session,
    sessions,
    threads,
    two_factor,
    users,
    video,
)
from .blueprint import PREFIX, api, bp

__all__ = ["PREFIX", "api", "bp"]
