"""Parley: a self-hosted real-time team chat server.

The app factory lives in `parley.app` and is imported on first use: the `parley` command
starts without the whole app's imports (seconds of CPU), so that `parley run` can start
itself again under gevent, and `parley --help` answers, before paying for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import IN_MEMORY_SQLITE, MIGRATIONS_DIR, SQLITE_POOL_SIZE, create_app

__all__ = ["IN_MEMORY_SQLITE", "MIGRATIONS_DIR", "SQLITE_POOL_SIZE", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
