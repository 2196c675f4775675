"""Validated field types shared by every request schema."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .. import usernames

MAX_ID = 2**63 - 1


# Every character of the categories Cc (control: NUL, escapes), Cs (surrogates) and Co
# (private use), none of which belongs in chat text. Unicode's stability policy fixes
# these three sets for good, so one search in C can stand for a category lookup per
# character in Python, which every message body paid for each of its characters.
_REFUSED = "\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_REFUSED_IN_LINE = re.compile(f"[\x00-\x1f{_REFUSED}]")
# Line breaks and tabs are the controls a multi-line text keeps.
_REFUSED_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_REFUSED}]")


def _check_text(value: str, *, multiline: bool) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains text that is not valid Unicode") from None
    if (_REFUSED_IN_TEXT if multiline else _REFUSED_IN_LINE).search(value):
        raise ValueError("contains a control character")
    return value


def _line(value: str) -> str:
    return _check_text(value, multiline=False).strip()


def _multiline(value: str) -> str:
    return _check_text(value, multiline=True).strip()


def normalize_username(value: str) -> str:
    """The username as stored and shown (PRECIS UsernameCasePreserved, RFC 8265)."""
    return usernames.enforce(value)


def username_key(value: str) -> str:
    """The case-insensitive identity of a username: two names with one key collide."""
    return usernames.key(value)


def _username(value: str) -> str:
    return normalize_username(_check_text(value, multiline=False))


# Default_Ignorable_Code_Point characters outside category Cf: fillers and selectors that
# draw nothing (Hangul fillers, Mongolian selectors, variation selectors, tags).
_INVISIBLE = frozenset(
    [
        0x034F,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x3164,
        0xFFA0,
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0000, 0xE1000),
    ]
)


def _visible(ch: str) -> bool:
    # Cf holds the bidi controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C), the
    # zero-width characters and the soft hyphen: none may hide in a name or reorder it.
    return unicodedata.category(ch) != "Cf" and ord(ch) not in _INVISIBLE


def clean_display_name(value: str) -> str:
    """A name as others see it: no bidi controls or invisible characters, and runs of
    spaces of any width made one space."""
    return " ".join("".join(ch for ch in value if _visible(ch)).split())


def _display_name(value: str) -> str:
    text = clean_display_name(_check_text(value, multiline=False))
    if not text:
        raise ValueError("must hold a visible character")
    return text


def _password(value: str) -> str:
    return _check_text(value, multiline=False)


def _room_name(value: str) -> str:
    return unicodedata.normalize("NFKC", _line(value))


def room_name_key(value: str) -> str:
    return _room_name(value).casefold()


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MessageCursor = Annotated[int, Field(ge=0, le=MAX_ID)]
Username = Annotated[str, AfterValidator(_username)]
Password = Annotated[str, Field(min_length=10, max_length=1024), AfterValidator(_password)]
DisplayName = Annotated[str, AfterValidator(_display_name), Field(min_length=1, max_length=64)]
RoomName = Annotated[str, AfterValidator(_room_name), Field(min_length=1, max_length=64)]
Topic = Annotated[str, AfterValidator(_line), Field(max_length=250)]
MessageBody = Annotated[str, AfterValidator(_multiline), Field(min_length=1, max_length=10_000)]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-:.]+$")]
TokenName = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=64)]
SearchText = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=200)]
# An emoji or its :shortcode: (emoji_text.reaction_emoji decides which are).
ReactionText = Annotated[str, Field(min_length=1, max_length=80)]
UserQuery = Annotated[
    str, BeforeValidator(lambda v: v or ""), AfterValidator(_line), Field(max_length=64)
]
