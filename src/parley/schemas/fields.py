"""Validated field types shared by every request schema."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**63 - 1
USERNAME_EXTRA_CHARS = "_.-"


def _check_text(value: str, *, multiline: bool) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains text that is not valid Unicode") from None
    allowed = "\n\t" if multiline else ""
    for ch in value:
        if ch in allowed:
            continue
        # Cc is control (NUL, escapes); Cs and Co never belong in chat text.
        if unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            raise ValueError("contains a control character")
    return value


def _line(value: str) -> str:
    return _check_text(value, multiline=False).strip()


def _multiline(value: str) -> str:
    return _check_text(value, multiline=True).strip()


def normalize_username(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def username_key(value: str) -> str:
    """The case-insensitive identity of a username: two names with one key collide."""
    return unicodedata.normalize("NFKC", normalize_username(value).casefold())


def _username(value: str) -> str:
    value = normalize_username(_check_text(value, multiline=False))
    if not 3 <= len(value) <= 32:
        raise ValueError("must be 3 to 32 characters long")
    for ch in value:
        if not (ch.isalpha() or ch.isdigit() or ch in USERNAME_EXTRA_CHARS):
            raise ValueError("may hold only letters, digits and _ . -")
    return value


def _password(value: str) -> str:
    return _check_text(value, multiline=False)


def _room_name(value: str) -> str:
    return unicodedata.normalize("NFKC", _line(value))


def room_name_key(value: str) -> str:
    return _room_name(value).casefold()


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MessageCursor = Annotated[int, Field(ge=0, le=MAX_ID)]
Username = Annotated[str, AfterValidator(_username)]
Password = Annotated[str, Field(min_length=8, max_length=1024), AfterValidator(_password)]
DisplayName = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=64)]
RoomName = Annotated[str, AfterValidator(_room_name), Field(min_length=1, max_length=64)]
Topic = Annotated[str, AfterValidator(_line), Field(max_length=250)]
MessageBody = Annotated[str, AfterValidator(_multiline), Field(min_length=1, max_length=10_000)]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-:.]+$")]
TokenName = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=64)]
SearchText = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=200)]
UserQuery = Annotated[
    str, BeforeValidator(lambda v: v or ""), AfterValidator(_line), Field(max_length=64)
]
