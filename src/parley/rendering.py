"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitizes."""

from __future__ import annotations

import re

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from .emoji_text import SHORTCODE, emojize_shortcodes

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

# Raw HTML in the source is shown as text, never passed through.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True}).enable(
    ["table", "strikethrough", "linkify"]
)


def _table_align(state: StateCore) -> None:
    """Column alignment as an align attribute: the sanitizer drops every style attribute."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrs.pop("style", None)
            if isinstance(style, str) and style.startswith("text-align:"):
                token.attrs["align"] = style.removeprefix("text-align:")


_markdown.core.ruler.push("table_align", _table_align)


def _shortcodes(state: StateCore) -> None:
    """`:name:` as its emoji in text only: code spans and blocks are other tokens."""
    for token in state.tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "text":
                    child.content = emojize_shortcodes(child.content)


_markdown.core.ruler.push("shortcodes", _shortcodes)


def _linkifier() -> LinkifyIt:
    # markdown-it holds the linkifier only when linkify-it-py is installed, as it is here.
    found = _markdown.linkify
    if found is None:  # pragma: no cover
        raise ImportError("linkify-it-py is required to render messages")
    return found


_linkify = _linkifier()


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # A code block's class names its language and nothing else.
    if attribute == "class" and not _LANGUAGE_CLASS.fullmatch(value):
        return None
    return value


_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#-]{1,32}")

# Relative and scheme-relative URLs ("/api/...", "//elsewhere") are dropped: a message
# links to the web or mails someone, never to the server's own routes.
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes=ALLOWED_URL_SCHEMES,
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


# Characters that may start Markdown syntax anywhere in a line, or that the sanitizer
# writes as entities.
_MARKUP = re.compile(r"[\\`*_~\[\]<>&|#]")
# A line starting with one of these may be a list or a heading rule; one starting with
# digits and a dot or parenthesis, a numbered list.
_BLOCK_STARTS = frozenset("-+=")
_NUMBERED = re.compile(r"\d+[.)]")


def _plain_paragraph(source: str) -> str | None:
    """The HTML of a line of plain prose, which renders to one paragraph of the same
    text, or None where the parser must decide. Most chat messages are such a line, and
    parsing and sanitizing is the costliest step of a send.

    The line has no character that opens Markdown syntax or that either library
    escapes, no whitespace but spaces and none at either end, no block marker at its
    start, and nothing the linkifier would turn into a link.
    """
    if (
        not source
        or not source.isprintable()
        or source[0] == " "
        or source[-1] == " "
        or source[0] in _BLOCK_STARTS
        or _NUMBERED.match(source)
        or _MARKUP.search(source)
        or SHORTCODE.search(source)
        or _linkify.test(source)
    ):
        return None
    return f"<p>{source}</p>"


def render_markdown(source: str) -> str:
    plain = _plain_paragraph(source)
    return plain if plain is not None else parse_and_clean(source)


def parse_and_clean(source: str) -> str:
    """The full path: render with markdown-it, then sanitize with nh3."""
    return _cleaner.clean(_markdown.render(source)).strip()
