"""Liveness and readiness probes for process managers and load balancers.

`/readyz` checks what a request needs beside the process: the database, and the message
queue (PARLEY_MESSAGE_QUEUE, Redis) that carries events to the other processes. Each
answers "ok" or "unreachable" ("not configured": no queue, one process); any
unreachable part makes it 503, so a load balancer sends no one to a process that could
not serve them or whose events would reach no one else.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# A probe runs every few seconds: a queue that does not answer within this is as good as
# down, and the probe must not hold its greenlet or thread longer.
QUEUE_TIMEOUT_SECONDS = 1.0
QUEUE_CLIENT_KEY = "parley.readyz_redis"


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    body: dict[str, Any] = {"status": "ok", "database": "ok", "message_queue": "ok"}
    reasons: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        body["database"] = "unreachable"
        reasons["database"] = type(exc).__name__
    if not current_app.config["PARLEY_MESSAGE_QUEUE"]:
        body["message_queue"] = "not configured"
    else:
        try:
            _queue_client(current_app).ping()
        except (RedisError, OSError, ValueError) as exc:
            body["message_queue"] = "unreachable"
            reasons["message_queue"] = type(exc).__name__
    if reasons:
        for part, reason in reasons.items():
            log.warning("not ready: the %s is unreachable (%s)", part.replace("_", " "), reason)
        body["status"] = "unavailable"
        # The first failing part's error, as before; then each part's.
        body["reason"] = next(iter(reasons.values()))
        body["reasons"] = reasons
        return jsonify(body), 503
    return jsonify(body), 200


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
