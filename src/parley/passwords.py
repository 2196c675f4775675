"""Password hashing with argon2id, parameters taken from the app's config."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def burn_verify(password: str) -> None:
    """Spend the time of one verification, so an unknown username answers no faster."""
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    cached: str | None = current_app.extensions.get("parley.dummy_hash")
    if cached is None:
        cached = hash_password("parley-dummy-password")
        current_app.extensions["parley.dummy_hash"] = cached
    return cached
