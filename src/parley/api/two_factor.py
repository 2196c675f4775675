"""/users/me/2fa: two-factor authentication (TOTP) for your own account."""

from __future__ import annotations

from ..actions import two_factor
from ..models import User
from ..ratelimits import login_limit
from ..schemas.two_factor import (
    RecoveryCodesOut,
    TwoFactorCodeIn,
    TwoFactorDisableIn,
    TwoFactorEnrolmentOut,
    TwoFactorStartIn,
    TwoFactorStatusOut,
)
from .blueprint import api


@api.route("GET", "/users/me/2fa", tag="users", response=TwoFactorStatusOut)
def two_factor_status(actor: User) -> TwoFactorStatusOut:
    """Whether two-factor authentication is on, and whether the server requires it of you."""
    found = two_factor.status(actor)
    return TwoFactorStatusOut(
        enabled=found.enabled,
        pending=found.pending,
        required=found.required,
        recovery_codes_left=found.recovery_codes_left,
    )


@api.route(
    "POST",
    "/users/me/2fa",
    tag="users",
    errors=(409,),
    body=TwoFactorStartIn,
    response=TwoFactorEnrolmentOut,
    status=201,
    limit=login_limit,
)
def start_two_factor(actor: User, body: TwoFactorStartIn) -> TwoFactorEnrolmentOut:
    """Start enrolment (needs your password): a new TOTP secret, its otpauth URI and QR code.

    Nothing changes at login until a code from it is confirmed. 409 totp_already_enabled
    when 2FA is on; 422 wrong_password.
    """
    enrolment = two_factor.start_enrolment(actor, body.password)
    return TwoFactorEnrolmentOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@api.route(
    "POST",
    "/users/me/2fa/confirm",
    tag="users",
    errors=(409,),
    body=TwoFactorCodeIn,
    response=RecoveryCodesOut,
    limit=login_limit,
)
def confirm_two_factor(actor: User, body: TwoFactorCodeIn) -> RecoveryCodesOut:
    """Turn two-factor authentication on with a code from the new secret.

    Answers 10 recovery codes, shown this once. 422 totp_invalid for a wrong code; 409
    totp_not_started without enrolment.
    """
    return RecoveryCodesOut(recovery_codes=two_factor.confirm_enrolment(actor, body.code))


@api.route(
    "DELETE",
    "/users/me/2fa",
    tag="users",
    body=TwoFactorDisableIn,
    status=204,
    limit=login_limit,
    errors=(409,),
)
def disable_two_factor(actor: User, body: TwoFactorDisableIn) -> None:
    """Turn two-factor authentication off: needs your password and a current code.

    The code may be a recovery code. 422 wrong_password or totp_invalid.
    """
    two_factor.disable(actor, body.password, body.code)


@api.route(
    "POST",
    "/users/me/2fa/recovery-codes",
    tag="users",
    errors=(409,),
    body=TwoFactorCodeIn,
    response=RecoveryCodesOut,
    limit=login_limit,
)
def regenerate_recovery_codes(actor: User, body: TwoFactorCodeIn) -> RecoveryCodesOut:
    """New recovery codes for a current code; the earlier ones stop working.

    422 totp_invalid for a wrong code.
    """
    return RecoveryCodesOut(recovery_codes=two_factor.regenerate_recovery_codes(actor, body.code))
