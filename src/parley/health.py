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

from flask import Blueprint, Response, current_app, jsonify

from .probes import database_state, queue_state

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    database, database_reason = database_state()
    queue, queue_reason = queue_state(current_app)
    body: dict[str, Any] = {"status": "ok", "database": database, "message_queue": queue}
    reasons = {
        part: reason
        for part, reason in (("database", database_reason), ("message_queue", queue_reason))
        if reason is not None
    }
    if reasons:
        for part, reason in reasons.items():
            log.warning("not ready: the %s is unreachable (%s)", part.replace("_", " "), reason)
        body["status"] = "unavailable"
        # The first failing part's error, as before; then each part's.
        body["reason"] = next(iter(reasons.values()))
        body["reasons"] = reasons
        return jsonify(body), 503
    return jsonify(body), 200
