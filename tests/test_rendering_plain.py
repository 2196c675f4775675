"""A line of plain prose skips the Markdown parser, and renders exactly as the parser
and sanitizer would have rendered it; anything that might be Markdown, a link or an
escaped character still goes through them."""

from __future__ import annotations

import random

import pytest

from parley.rendering import _plain_paragraph, parse_and_clean, render_markdown

PROSE = [
    "hello",
    "Hello there, how are you doing today?",
    'He said "hi" and it\'s fine!',
    "tag 1234.567890",
    "e.g. this, i.e. that... and so on (mostly).",
    "café ☕ 日本語 ok? sí; well-known 50% off $5",
    "two  spaces inside",
    "10 people are coming at 7.30",
    "1234567 1234.567890",
    "A sentence. Another one.",
]

NOT_PLAIN = [
    "",
    " leading space",
    "trailing space ",
    "see example.com",
    "write to a@example.org",
    "https://example.com/page",
    "www.example.com",
    "x.рф",
    "1. a list",
    "2) another",
    "10.",
    "\u0661. Arabic-Indic digits",
    "- a bullet",
    "+ a bullet",
    "=== heading rule",
    "# heading",
    "> quote",
    "a *strong* word",
    "snake_case",
    "~~gone~~",
    "`code`",
    "[link](x)",
    "a & b",
    "a < b > c",
    "a | b",
    "back\\slash",
    "non\u00a0breaking",
    "tab\there",
    "two\nlines",
    "zero\u200bwidth",
]


@pytest.mark.parametrize("line", PROSE)
def test_plain_prose_skips_the_parser_and_renders_as_the_parser_would(line: str) -> None:
    assert _plain_paragraph(line) is not None
    assert render_markdown(line) == parse_and_clean(line) == f"<p>{line}</p>"


@pytest.mark.parametrize("line", NOT_PLAIN)
def test_a_line_that_may_be_markup_goes_through_the_parser(line: str) -> None:
    assert _plain_paragraph(line) is None
    assert render_markdown(line) == parse_and_clean(line)


# Mostly prose characters, with every character the shortcut must refuse mixed in.
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz" * 3
    + "ABCXYZ"
    + " " * 12
    + "0123456789"
    + ".,;:!?'\"()-+=/@%$^{}"
    + "éß日本😀☕рф"
    + "\\`*_~[]<>&|#"
    + "\u00a0\t\n\r\u200b\x00"
)


def test_random_lines_render_the_same_with_and_without_the_shortcut() -> None:
    rng = random.Random(20261201)
    plain = 0
    for _ in range(20_000):
        line = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))
        shortcut = _plain_paragraph(line)
        if shortcut is not None:
            plain += 1
            assert shortcut == parse_and_clean(line), repr(line)
    # The comparison means something only if the shortcut was taken often.
    assert plain > 2_000
