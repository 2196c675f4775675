"""What makes two usernames the same name, or names a reader could mistake for each other.

A username is enforced with the PRECIS UsernameCasePreserved profile (RFC 8265: width
mapping, NFC, the IdentifierClass code points, the bidi rule) and compared by its
UsernameCaseMapped form (the same, lower-cased). Two names that look alike in a chat
(``\u0430lice`` with a Cyrillic a beside ``alice``, ``r00t1`` beside ``root1``) are kept
apart by a skeleton in the manner of Unicode's UTS #39: each character is replaced by a
representative of its class of confusable characters, so look-alikes share one skeleton,
which is stored with a unique index.

The confusable classes come from Unicode's confusables.txt as packaged by
``confusable_homoglyphs`` (which keeps each pair in both directions): its connected
groups are exactly confusables.txt's classes, one prototype and every character mapped
onto it, whatever the direction.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data
from precis_i18n import get_profile

EXTRA_CHARS = "_.-"
MIN_LENGTH = 3
MAX_LENGTH = 32
# The data marks right-to-left characters with LEFT-TO-RIGHT MARKs for its own display.
_LRM = "\u200e"


class UsernameError(ValueError):
    """A username outside the rules; the message says which."""


def enforce(value: str) -> str:
    """The username as stored and shown: PRECIS case-preserved, then Parley's own rules
    (3 to 32 characters, letters, digits and ``_ . -``)."""
    try:
        name: str = get_profile("UsernameCasePreserved").enforce(value)
    except UnicodeError as exc:
        reason = getattr(exc, "reason", "")
        raise UsernameError(_reason(reason)) from None
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise UsernameError(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    for ch in name:
        if not (ch.isalpha() or ch.isdigit() or ch in EXTRA_CHARS or _is_mark(ch)):
            raise UsernameError("may hold only letters, digits and _ . -")
    return name


INVALID_KEY_PREFIX = "!"


def key(value: str) -> str:
    """The identity of a username ignoring case and width: two names with one key are one
    name. A string PRECIS refuses gets a key no valid name has (valid names hold no "!"),
    escaped so no database is handed a NUL, so it matches none."""
    try:
        mapped: str = get_profile("UsernameCaseMapped").enforce(value)
    except UnicodeError:
        return INVALID_KEY_PREFIX + value.encode("unicode_escape").decode("ascii")[:300]
    return mapped


def skeleton(value: str) -> str:
    """The confusable skeleton of a username's key: look-alike names share it."""
    text = unicodedata.normalize("NFD", key(value))
    # Mapped, lower-cased and mapped again: confusables.txt sends "0" to "O", which the
    # key's lower case has made "o", so "r00t" meets "root".
    folded = unicodedata.normalize("NFD", _map(text).lower())
    return unicodedata.normalize("NFD", _map(folded))


def skeleton_digest(value: str) -> str:
    """The skeleton as stored: a fixed-size digest, since a skeleton can be longer than
    the name (one character may stand for several)."""
    return hashlib.sha256(skeleton(value).encode("utf-8")).hexdigest()


def _map(text: str) -> str:
    table = _representatives()
    return "".join(table.get(ch, ch) for ch in text)


def _is_mark(ch: str) -> bool:
    # Combining marks are part of letters in many scripts (and NFC leaves some apart).
    return unicodedata.category(ch).startswith("M")


@cache
def _representatives() -> dict[str, str]:
    """Each confusable character's prototype: in confusables.txt every class is a star,
    many characters mapped onto one prototype (a string of one or more characters), so
    the prototype is the member paired with all the others; a class of two is ambiguous
    and gets its member that comes first, which serves equally for comparing."""
    neighbours: dict[str, set[str]] = {}
    for source, targets in confusables_data.items():
        a = source.replace(_LRM, "") or source
        for target in targets:
            b = target["c"].replace(_LRM, "") or target["c"]
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    table: dict[str, str] = {}
    for node, around in neighbours.items():
        if len(node) != 1:
            continue
        if len(around) == 1:
            (other,) = around
            if len(neighbours[other]) > 1 or len(other) > 1 or other < node:
                table[node] = other
    return table


def _reason(reason: str) -> str:
    if reason == "empty":
        return "must not be empty"
    if "spaces" in reason:
        return "may not contain spaces"
    if "bidi" in reason:
        return "mixes left-to-right and right-to-left text"
    return "may hold only letters, digits and _ . -"
