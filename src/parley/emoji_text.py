"""Emoji: what a reaction may be, and `:shortcode:`s in a message's text.

The `emoji` package (PyPI) holds Unicode's emoji list, with the status of each sequence
and the names people type between colons (the CLDR names and the usual aliases)."""

from __future__ import annotations

import re

import emoji

from .errors import ValidationFailed

FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
VARIATION_SELECTOR_16 = "\ufe0f"
SHORTCODE = re.compile(r":[a-zA-Z0-9_+\-']+:")


def _fully_qualified(text: str) -> str | None:
    found = emoji.EMOJI_DATA.get(text)
    if found is not None and found["status"] == FULLY_QUALIFIED:
        return text
    if found is not None and found["status"] > FULLY_QUALIFIED:
        # Typed without its emoji presentation selector ("❤" for "❤️"): the same emoji.
        with_selector = text.replace(VARIATION_SELECTOR_16, "")
        for candidate in (text + VARIATION_SELECTOR_16, with_selector + VARIATION_SELECTOR_16):
            qualified = emoji.EMOJI_DATA.get(candidate)
            if qualified is not None and qualified["status"] == FULLY_QUALIFIED:
                return candidate
    return None


def reaction_emoji(text: str) -> str:
    """One emoji, in its fully-qualified Unicode form, from the emoji itself or its
    `:shortcode:`; anything else is refused."""
    candidate = text
    if SHORTCODE.fullmatch(candidate):
        candidate = emoji.emojize(candidate, language="alias")
    found = _fully_qualified(candidate)
    if found is None:
        raise ValidationFailed(
            "A reaction is one emoji, or its :shortcode:.",
            details={"emoji": text[:80]},
            code="invalid_emoji",
        )
    return found


def emojize_shortcodes(text: str) -> str:
    """`:name:` turned into its emoji where the name is known; others stay as typed."""
    if ":" not in text:
        return text
    return emoji.emojize(text, language="alias")
