"""Two-factor authentication: TOTP enrolment, codes at login, one-time recovery codes.

A code is either a 6-digit TOTP (RFC 6238, 30-second steps, one step of clock drift
either way) or a recovery code. A TOTP is accepted only for a time step later than the
last one accepted, so a code seen once cannot be replayed in its window. Recovery codes
are 16 random characters (about 79 bits), stored as SHA-256 hashes like API tokens, and
each works once. Failed codes draw on a per-account budget (PARLEY_LOGIN_RATE_LIMIT), so
guessing is bounded from however many addresses it comes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, or_, select, update

from ..errors import ApiError, Conflict, Unauthorized, ValidationFailed
from ..events import emit_after_commit
from ..extensions import db
from ..models import ApiToken, RecoveryCode, User
from ..models.types import utcnow
from ..passwords import verify_password
from .access import require_active
from .tokens import SESSION_KINDS, token_revoked_event

ISSUER = "Parley"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 16
# Codes one step early or late are accepted, for phones whose clocks drift.
DRIFT_STEPS = 1


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    required: bool
    recovery_codes_left: int


class CodeThrottle:
    """Failed second-factor attempts per account, in a moving window."""

    def __init__(self, limit: str, storage_uri: str, enabled: bool) -> None:
        self.enabled = enabled
        self._item = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def wait(self, user_id: int) -> float | None:
        """None while attempts are left, else the seconds until one is."""
        if not self.enabled or self._limiter.test(self._item, self._key(user_id)):
            return None
        stats = self._limiter.get_window_stats(self._item, self._key(user_id))
        return max(0.0, stats.reset_time - time.time())

    def failed(self, user_id: int) -> None:
        if self.enabled:
            self._limiter.hit(self._item, self._key(user_id))

    @staticmethod
    def _key(user_id: int) -> str:
        return f"second-factor:{user_id}"


def code_throttle() -> CodeThrottle:
    extensions = current_app.extensions
    if "parley.code_throttle" not in extensions:
        config = current_app.config
        extensions["parley.code_throttle"] = CodeThrottle(
            config["PARLEY_LOGIN_RATE_LIMIT"],
            config["PARLEY_RATE_LIMIT_STORAGE"],
            config["PARLEY_RATE_LIMITS"],
        )
    throttle: CodeThrottle = extensions["parley.code_throttle"]
    return throttle


def admin_must_enrol(token: ApiToken) -> bool:
    """An administrator's interactive login without 2FA while the server demands it:
    such a login may only enrol (API tokens made by hand are not logins, and keep working)."""
    user = token.user
    return bool(
        current_app.config["PARLEY_REQUIRE_ADMIN_2FA"]
        and token.kind in SESSION_KINDS
        and user.is_admin
        and not user.totp_enabled
    )


def status(actor: User) -> TwoFactorStatus:
    require_active(actor)
    left = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == actor.id, RecoveryCode.used_at.is_(None))
    )
    return TwoFactorStatus(
        enabled=actor.totp_enabled,
        pending=actor.totp_secret is not None and not actor.totp_enabled,
        required=bool(current_app.config["PARLEY_REQUIRE_ADMIN_2FA"] and actor.is_admin),
        recovery_codes_left=left or 0,
    )


def start_enrolment(actor: User, password: str) -> Enrolment:
    """A new secret, pending until a code from it is confirmed; needs the password, so a
    borrowed session cannot lock its owner out behind a second factor of its own."""
    require_active(actor)
    if actor.totp_enabled:
        raise Conflict(
            "Two-factor authentication is already on; turn it off first to enrol again.",
            code="totp_already_enabled",
        )
    _require_password(actor, password)
    secret = pyotp.random_base32()
    actor.totp_secret = secret
    actor.totp_last_step = None
    db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def qr_svg(text: str) -> str:
    """A standalone SVG image of the QR code (made here: the page fetches nothing)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        scale=4,
        border=2,
        light="#fff",
        svgclass=None,
        lineclass=None,
    )
    return out.getvalue().decode()


def confirm_enrolment(actor: User, code: str) -> list[str]:
    """Turn 2FA on with a code from the pending secret; answers the recovery codes, the
    only time they are shown."""
    require_active(actor)
    if actor.totp_enabled:
        raise Conflict("Two-factor authentication is already on.", code="totp_already_enabled")
    if actor.totp_secret is None:
        raise Conflict(
            "Start enrolment first (POST /api/v1/users/me/2fa).", code="totp_not_started"
        )
    _check_throttle(actor)
    if not _use_totp(actor, code):
        _refuse(actor, ValidationFailed, "The code is wrong or was already used.")
    actor.totp_enabled = True
    codes = _new_recovery_codes(actor)
    db.session.commit()
    return codes


def disable(actor: User, password: str, code: str) -> None:
    """Turn 2FA off: needs the password and a current code (or a recovery code)."""
    require_active(actor)
    if not actor.totp_enabled:
        raise Conflict("Two-factor authentication is not on.", code="totp_not_enabled")
    _require_password(actor, password)
    require_code(actor, code)
    actor.totp_enabled = False
    actor.totp_secret = None
    actor.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    db.session.commit()


def reset(user: User) -> int:
    """An administrator's way back in for a user who lost both the authenticator and the
    recovery codes (the `parley reset-2fa` command): 2FA off, and every login of theirs
    ended, since whoever holds one may be who took the phone. Answers how many ended."""
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind.in_(SESSION_KINDS))
    ).all()
    for token in ended:
        emit_after_commit(token_revoked_event(token))
        db.session.delete(token)
    db.session.commit()
    return len(ended)


def regenerate_recovery_codes(actor: User, code: str) -> list[str]:
    """New recovery codes for a current code; every earlier one stops working."""
    require_active(actor)
    if not actor.totp_enabled:
        raise Conflict("Two-factor authentication is not on.", code="totp_not_enabled")
    require_code(actor, code)
    codes = _new_recovery_codes(actor)
    db.session.commit()
    return codes


def check_login_code(user: User, code: str | None) -> None:
    """At login, after the password: a user with 2FA must send a valid code too.

    401 totp_required without a code, 401 totp_invalid with a wrong or used one, 429 once
    the account's failed attempts are spent. The caller commits (a used code stays used)."""
    if not user.totp_enabled:
        return
    if not code:
        raise Unauthorized(
            "This account has two-factor authentication: send the code from the "
            "authenticator app (or a recovery code) in the code field.",
            code="totp_required",
        )
    _check_throttle(user)
    if not _use_code(user, code):
        _refuse(user, Unauthorized, "The two-factor code is wrong or was already used.")


def require_code(user: User, code: str) -> None:
    """A signed-in user's confirmation with a current code: 422 totp_invalid if wrong."""
    _check_throttle(user)
    if not _use_code(user, code):
        _refuse(user, ValidationFailed, "The two-factor code is wrong or was already used.")


def _require_password(user: User, password: str) -> None:
    _check_throttle(user)
    if not verify_password(user.password_hash, password):
        code_throttle().failed(user.id)
        raise ValidationFailed(
            "password is wrong.",
            code="wrong_password",
            details={"fields": [{"field": "body.password", "message": "wrong"}]},
        )


def _check_throttle(user: User) -> None:
    wait = code_throttle().wait(user.id)
    if wait is not None:
        raise ApiError(
            "Too many wrong codes or passwords for this account; try again later.",
            code="rate_limited",
            status=429,
            details={"retry_after": round(wait, 3)},
        )


def _refuse(user: User, error: type[ApiError], message: str) -> None:
    code_throttle().failed(user.id)
    raise error(message, code="totp_invalid", details={"field": "body.code"})


def _use_code(user: User, code: str) -> bool:
    if _is_totp(code):
        return _use_totp(user, code)
    return _use_recovery_code(user, code)


def _is_totp(code: str) -> bool:
    # ASCII only: str.isdigit() also takes other scripts' digits, which no app shows.
    compact = "".join(code.split())
    return len(compact) == 6 and compact.isascii() and compact.isdigit()


def _use_totp(user: User, code: str) -> bool:
    """Accept a TOTP for a step after the last accepted one, claiming that step in one
    conditional UPDATE so two requests racing with the same code cannot both pass."""
    if user.totp_secret is None or not _is_totp(code):
        return False
    code = "".join(code.split())
    totp = pyotp.TOTP(user.totp_secret)
    now = totp.timecode(utcnow())
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            claimed = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            user.totp_last_step = step
            return True
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    normal = normalize_recovery_code(code)
    if len(normal) != RECOVERY_CODE_LENGTH:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(normal),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


def normalize_recovery_code(code: str) -> str:
    """What is compared: lower case, without the dashes and spaces it is shown with."""
    return "".join(ch for ch in code.lower() if ch not in "- \t")


def _hash(normal: str) -> str:
    # 79 random bits: a fast hash is enough, nothing to brute-force.
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        normal = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(normal)))
        codes.append("-".join(normal[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    return codes
