"""Text fields refuse control, surrogate and private-use characters, as Unicode's
character database classes them, for every code point; message bodies keep their line
breaks and tabs."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from parley.schemas.fields import _check_text

REFUSED = ("Cc", "Cs", "Co")


def refused(ch: str, *, multiline: bool) -> bool:
    try:
        _check_text(f"a{ch}b", multiline=multiline)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("multiline", [False, True])
def test_every_code_point_is_refused_exactly_when_its_category_is_refused(
    multiline: bool,
) -> None:
    kept = "\n\t" if multiline else ""
    wrong = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if refused(ch := chr(code), multiline=multiline)
        != (unicodedata.category(ch) in REFUSED and ch not in kept)
    ]

    assert wrong == []


def test_the_reason_names_what_was_wrong() -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        _check_text("a\ud800", multiline=True)
    with pytest.raises(ValueError, match="control character"):
        _check_text("a\x07", multiline=True)
    with pytest.raises(ValueError, match="control character"):
        _check_text("a\ue000", multiline=False)
