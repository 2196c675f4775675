"""Rate limits: Flask-Limiter for REST routes, the same `limits` engine for socket events.

Each user has two budgets: one for sending messages, shared by REST and Socket.IO
(PARLEY_SEND_RATE_LIMIT), and a general one for their other socket events
(PARLEY_EVENT_RATE_LIMIT). They keep their counters in memory by default and in Redis
when PARLEY_RATE_LIMIT_STORAGE points there, so several processes share one budget.
PARLEY_RATE_LIMITS=off turns all of them off, for load tests and benchmarks only.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import StorageTypes, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import ApiError, error_response
from .models import User

limiter = Limiter(key_func=get_remote_address)
log = logging.getLogger(__name__)

# While the counters' storage is unreachable, one warning this often, not one a request.
STORAGE_WARNING_SECONDS = 10.0

P = ParamSpec("P")
R = TypeVar("R")


def login_limit() -> str:
    return str(current_app.config["PARLEY_LOGIN_RATE_LIMIT"])


def register_limit() -> str:
    return str(current_app.config["PARLEY_REGISTER_RATE_LIMIT"])


class EventRateLimiter:
    """A moving-window budget per key (a user), answering how long to wait when spent.

    `scope` keeps budgets apart in one storage: the counters' keys hold the limit's
    numbers, so two budgets with the same numbers would otherwise share one count.
    """

    def __init__(
        self, limit: str, storage: str | StorageTypes, enabled: bool, *, scope: str = "events"
    ) -> None:
        self.enabled = enabled
        self.scope = scope
        self._item = parse(limit)
        found = storage_from_string(storage) if isinstance(storage, str) else storage
        self._limiter = MovingWindowRateLimiter(found)

    def retry_after(self, key: str) -> float | None:
        """Count one event; None when allowed, else the seconds until one is."""
        if not self.enabled:
            return None
        try:
            if self._limiter.hit(self._item, self.scope, key):
                return None
            stats = self._limiter.get_window_stats(self._item, self.scope, key)
        except Exception as exc:  # whatever the storage's client raises (redis-py's errors)
            # The counters live in Redis in a cluster; a Redis restart must not refuse
            # every send, which the database alone stores: the budget is not counted
            # until the storage answers again (docs/operations.md, "When a part fails").
            _storage_unreachable(exc)
            return None
        return max(0.0, stats.reset_time - time.time())


_warned = {"at": -math.inf}
_warned_lock = threading.Lock()


def _storage_unreachable(exc: Exception) -> None:
    now = time.monotonic()
    with _warned_lock:
        if now - _warned["at"] < STORAGE_WARNING_SECONDS:
            return
        _warned["at"] = now
    log.warning(
        "rate limits not counted: their storage is unreachable (%s: %s)", type(exc).__name__, exc
    )


class RateLimited(ApiError):
    """A spent budget: `retry_after` says, in seconds, when the next one is allowed."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message, details={"retry_after": round(wait, 3)})


def spend(budget: EventRateLimiter, user_id: int, message: str) -> None:
    """Count one event of the user on the budget, or raise RateLimited when it is spent."""
    wait = budget.retry_after(f"user:{user_id}")
    if wait is not None:
        raise RateLimited(message, wait)


SENDS_SPENT = "Too many messages; send it again once retry_after has passed."


def spend_send(user_id: int) -> None:
    """Count one message send of the user, over any transport."""
    spend(send_limiter(), user_id, SENDS_SPENT)


def limit_sends(view: Callable[P, R]) -> Callable[P, R]:
    """A REST view that sends a message: it spends its actor's send budget first."""

    @functools.wraps(view)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        spend_send(cast(User, kwargs["actor"]).id)
        return view(*args, **kwargs)

    return limited


def _budget_spent(error: RateLimited) -> tuple[Response, int]:
    response, status = error_response(error)
    seconds = str(max(1, math.ceil(error.details["retry_after"])))
    response.headers["Retry-After"] = g.parley_retry_after = seconds
    return response, status


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
    # As for the socket budgets (EventRateLimiter.retry_after): a storage that does not
    # answer lets requests through rather than failing them.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # Registered before Flask-Limiter's hooks, so it runs after them.
    app.after_request(_keep_retry_after)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, rate_limited)
    app.register_error_handler(RateLimited, _budget_spent)
    storage = storage_from_string(app.config["PARLEY_RATE_LIMIT_STORAGE"])
    enabled = app.config["PARLEY_RATE_LIMITS"]
    app.extensions["parley.event_limiter"] = EventRateLimiter(
        app.config["PARLEY_EVENT_RATE_LIMIT"], storage, enabled, scope="events"
    )
    app.extensions["parley.send_limiter"] = EventRateLimiter(
        app.config["PARLEY_SEND_RATE_LIMIT"], storage, enabled, scope="sends"
    )


def event_limiter() -> EventRateLimiter:
    found: EventRateLimiter = current_app.extensions["parley.event_limiter"]
    return found


def send_limiter() -> EventRateLimiter:
    found: EventRateLimiter = current_app.extensions["parley.send_limiter"]
    return found
