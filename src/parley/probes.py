"""What the server finds when it checks its own parts: the database, the message queue,
and its version. /readyz and the admin console's status both ask here."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Flask
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

# A probe runs every few seconds: a queue that does not answer within this is as good as
# down, and the probe must not hold its greenlet or thread longer.
QUEUE_TIMEOUT_SECONDS = 1.0
QUEUE_CLIENT_KEY = "parley.readyz_redis"


def parley_version() -> str:
    try:
        return version("parley")
    except PackageNotFoundError:
        return "0.0.0"


def database_state() -> tuple[str, str | None]:
    """The database's state: "ok", or "unreachable" and the error's name."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return "unreachable", type(exc).__name__
    return "ok", None


def queue_state(app: Flask) -> tuple[str, str | None]:
    """The queue's state: "ok", "not configured" (one process), or "unreachable" and why."""
    if not app.config["PARLEY_MESSAGE_QUEUE"]:
        return "not configured", None
    try:
        _queue_client(app).ping()
    except (RedisError, OSError, ValueError) as exc:
        return "unreachable", type(exc).__name__
    return "ok", None


def _queue_client(app: Flask) -> Redis:
    """One client per app, made on first use: its pool keeps the connection between
    probes. Its timeouts bound a probe against a queue that does not answer."""
    client: Redis | None = app.extensions.get(QUEUE_CLIENT_KEY)
    if client is None:
        client = Redis.from_url(
            app.config["PARLEY_MESSAGE_QUEUE"],
            socket_timeout=QUEUE_TIMEOUT_SECONDS,
            socket_connect_timeout=QUEUE_TIMEOUT_SECONDS,
            # Once: a probe reports what it finds, the next probe asks again.
            retry=Retry(NoBackoff(), 0),
        )
        app.extensions[QUEUE_CLIENT_KEY] = client
    return client
