"""Rate limits: Flask-Limiter for REST routes, the same `limits` engine for socket events.

Both keep their counters in memory by default and in Redis when PARLEY_RATE_LIMIT_STORAGE
points there, so several processes share one budget. PARLEY_RATE_LIMITS=off turns all
of them off, for load tests and benchmarks only.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import ApiError, error_response

limiter = Limiter(key_func=get_remote_address)


def login_limit() -> str:
    return str(current_app.config["PARLEY_LOGIN_RATE_LIMIT"])


def register_limit() -> str:
    return str(current_app.config["PARLEY_REGISTER_RATE_LIMIT"])


class EventRateLimiter:
    """A moving-window budget per key (a user), answering how long to wait when spent."""

    def __init__(self, limit: str, storage_uri: str, enabled: bool) -> None:
        self.enabled = enabled
        self._item = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def retry_after(self, key: str) -> float | None:
        """Count one event; None when allowed, else the seconds until one is."""
        if not self.enabled:
            return None
        if self._limiter.hit(self._item, key):
            return None
        stats = self._limiter.get_window_stats(self._item, key)
        return max(0.0, stats.reset_time - time.time())


def rate_limited(exc: RateLimitExceeded) -> tuple[Response, int]:
    """429 in the API's error shape, saying how long to wait."""
    current = limiter.current_limit
    wait = max(0.0, current.reset_at - time.time()) if current else 1.0
    error = ApiError(
        f"Too many requests ({exc.description}); try again later.",
        code="rate_limited",
        status=429,
        details={"retry_after": round(wait, 3)},
    )
    response, status = error_response(error)
    seconds = str(max(1, math.ceil(wait)))
    response.headers["Retry-After"] = g.parley_retry_after = seconds
    return response, status


def _keep_retry_after(response: Response) -> Response:
    """Put back the 429's Retry-After: Flask-Limiter's header hook rewrites it rounded
    down, which sends clients back before the window has reset (even as 0)."""
    seconds = g.pop("parley_retry_after", None)
    if seconds is not None:
        response.headers["Retry-After"] = seconds
    return response


def init_rate_limits(app: Flask) -> None:
    app.config["RATELIMIT_ENABLED"] = app.config["PARLEY_RATE_LIMITS"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config["PARLEY_RATE_LIMIT_STORAGE"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    # Registered before Flask-Limiter's hooks, so it runs after them.
    app.after_request(_keep_retry_after)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, rate_limited)
    app.extensions["parley.event_limiter"] = EventRateLimiter(
        app.config["PARLEY_EVENT_RATE_LIMIT"],
        app.config["PARLEY_RATE_LIMIT_STORAGE"],
        app.config["PARLEY_RATE_LIMITS"],
    )


def event_limiter() -> EventRateLimiter:
    found: EventRateLimiter = current_app.extensions["parley.event_limiter"]
    return found
