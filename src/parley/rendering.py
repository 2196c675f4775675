"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitizes."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

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


def render_markdown(source: str) -> str:
    return _cleaner.clean(_markdown.render(source)).strip()
