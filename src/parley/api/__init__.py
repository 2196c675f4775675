"""The REST API under /api/v1."""

from . import auth, messages, rooms, session, users, video  # noqa: F401  (each declares its routes)
from .blueprint import PREFIX, api, bp

__all__ = ["PREFIX", "api", "bp"]
