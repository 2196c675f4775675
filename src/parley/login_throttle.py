"""Password guesses limited per account, on top of the per-address limit of the routes.

Every password check (login, web session, the old password of a password change) counts
against the account it names, whichever address it comes from: the first
PARLEY_LOGIN_ACCOUNT_LIMIT (5 per 15 minutes) go through, then each further check must
wait a delay that starts at PARLEY_LOGIN_DELAY_SECONDS and doubles with every check, up
to PARLEY_LOGIN_MAX_DELAY_SECONDS. A check that comes too early is answered 429 with
``retry_after`` and is not counted, so guessing cannot push the delay on by itself. The
count is forgotten a window after the last delay ends, and at once on a right password.

So that an attacker cannot keep the owner out by guessing at their account, a browser
that has logged in to the account before holds a signed device cookie (OWASP's device
cookies, see ``parley.devices``): its checks count against that device alone, not the
account, and its right password clears the account's count too.

The counts live in the rate-limit storage (PARLEY_RATE_LIMIT_STORAGE), so processes on
one Redis share them; PARLEY_RATE_LIMITS=off turns this off with every other limit.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g
from limits import parse
from limits.storage import Storage, storage_from_string

from .errors import ApiError, Unavailable, error_response

log = logging.getLogger(__name__)

_PREFIX = "parley-login"


class TooManyAttempts(ApiError):
    """429: too many password checks for this account; try after ``retry_after``."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(retry_after, 0.001)
        super().__init__(
            "Too many wrong passwords for this account; try again in "
            f"{max(1, math.ceil(self.retry_after))} s.",
            details={"retry_after": round(self.retry_after, 3), "scope": "account"},
        )


@dataclass(frozen=True)
class Device:
    """A browser's device cookie: its random id and the users who logged in with it."""

    nonce: str
    user_ids: frozenset[int] = field(default_factory=frozenset)

    def knows(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.user_ids


class LoginThrottle:
    def __init__(
        self, storage_uri: str, enabled: bool, limit: str, delay: float, max_delay: float
    ) -> None:
        item = parse(limit)
        self.enabled = enabled
        self.allowed = item.amount
        self.window = item.get_expiry()
        self.delay = delay
        self.max_delay = max(max_delay, delay)
        storage = storage_from_string(storage_uri)
        assert isinstance(storage, Storage), "an asynchronous storage cannot serve Flask"
        self._storage = storage

    def begin(self, subject: str) -> None:
        """Count one password check for the subject, or refuse it with TooManyAttempts;
        Unavailable while the counts' storage cannot be reached."""
        if not self.enabled:
            return
        try:
            self._begin(subject)
        except ApiError:
            raise
        except Exception as exc:  # whatever the storage's client raises (redis-py's errors)
            # Unlike the send budgets, this guard is not let go while its storage is down
            # (a Redis restart): unthrottled password guessing is worse than a login that
            # waits a few seconds, and the client is told to retry.
            log.warning("login refused: the throttle's storage is unreachable (%s)", exc)
            raise Unavailable(
                "Logging in is paused while the server's Redis cannot be reached; "
                "try again in a few seconds."
            ) from None

    def _begin(self, subject: str) -> None:
        count_key, lock_key = _keys(subject)
        count = self._storage.incr(count_key, self.window)
        if count < self.allowed:
            return
        delay = min(self.delay * 2 ** (count - self.allowed), self.max_delay)
        # The lock is taken by one increment, so of checks racing in many processes only
        # the one that makes it exists goes on; it holds until this check's delay is over.
        if self._storage.incr(lock_key, math.ceil(delay)) != 1:
            self._storage.incr(count_key, self.window, amount=-1)
            raise TooManyAttempts(self._storage.get_expiry(lock_key) - time.time())
        # Only the lock's holder gets here: the count outlives the delay by a window.
        self._storage.clear(count_key)
        self._storage.incr(count_key, math.ceil(delay) + self.window, amount=count)

    def passed(self, *subjects: str) -> None:
        """A right password: forget these subjects' counts and delays."""
        if not self.enabled:
            return
        try:
            for subject in subjects:
                for key in _keys(subject):
                    self._storage.clear(key)
        except Exception as exc:  # the storage's client's errors, as in begin
            # The password was right: the counts left behind expire with their window.
            log.warning("login counts not cleared: the storage is unreachable (%s)", exc)


def _keys(subject: str) -> tuple[str, str]:
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{_PREFIX}:count:{digest}", f"{_PREFIX}:lock:{digest}"


def account_subject(account_key: str) -> str:
    return f"account:{account_key}"


def device_subject(device: Device, user_id: int) -> str:
    return f"device:{device.nonce}:{user_id}"


class PasswordCheck:
    """One counted password check; ``passed()`` once the password proved right."""

    def __init__(self, subjects: tuple[str, ...]) -> None:
        self._subjects = subjects

    def passed(self) -> None:
        login_throttle().passed(*self._subjects)


def begin_password_check(
    account_key: str, user_id: int | None, device: Device | None
) -> PasswordCheck:
    """Count a password check against the account, or against the device when it is one
    the user logged in with before; a right password clears both."""
    account = account_subject(account_key)
    if device is not None and user_id is not None and device.knows(user_id):
        subject = device_subject(device, user_id)
        login_throttle().begin(subject)
        return PasswordCheck((subject, account))
    login_throttle().begin(account)
    return PasswordCheck((account,))


def _too_many_attempts(error: TooManyAttempts) -> tuple[Response, int]:
    response, status = error_response(error)
    seconds = str(max(1, math.ceil(error.retry_after)))
    # parley.ratelimits puts this back after Flask-Limiter's header hook.
    response.headers["Retry-After"] = g.parley_retry_after = seconds
    return response, status


def init_login_throttle(app: Flask) -> None:
    config = app.config
    app.extensions["parley.login_throttle"] = LoginThrottle(
        config["PARLEY_RATE_LIMIT_STORAGE"],
        config["PARLEY_RATE_LIMITS"],
        config["PARLEY_LOGIN_ACCOUNT_LIMIT"],
        float(config["PARLEY_LOGIN_DELAY_SECONDS"]),
        float(config["PARLEY_LOGIN_MAX_DELAY_SECONDS"]),
    )
    app.register_error_handler(TooManyAttempts, _too_many_attempts)


def login_throttle() -> LoginThrottle:
    found: LoginThrottle = current_app.extensions["parley.login_throttle"]
    return found
