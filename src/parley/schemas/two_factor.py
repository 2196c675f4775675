"""Two-factor authentication: enrolment, confirmation, recovery codes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import RequestBody, Response

Code = Annotated[str, Field(min_length=1, max_length=64)]
PasswordCheck = Annotated[str, Field(min_length=1, max_length=1024)]


class TwoFactorStatusOut(Response):
    enabled: bool
    # Enrolment started and not yet confirmed.
    pending: bool
    # The server requires it of this account (PARLEY_REQUIRE_ADMIN_2FA, an administrator).
    required: bool
    recovery_codes_left: int


class TwoFactorStartIn(RequestBody):
    password: PasswordCheck


class TwoFactorEnrolmentOut(Response):
    """The new secret, for the authenticator app: type it, open the otpauth URI, or scan
    the QR code (an SVG image of that URI)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class TwoFactorCodeIn(RequestBody):
    # A 6-digit code from the authenticator app, or (except to confirm) a recovery code.
    code: Code


class TwoFactorDisableIn(RequestBody):
    password: PasswordCheck
    code: Code


class RecoveryCodesOut(Response):
    """Recovery codes, each good for one login instead of a TOTP; shown only this once."""

    recovery_codes: list[str]
