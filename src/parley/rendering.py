"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitizes."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

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
    "span",
}
ALLOWED_ATTRIBUTES = {
    "span": {"class", "data-user-id", "data-mention"},
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

# `@name` not inside a word or an address: letters, digits and _ . - as in usernames, a
# trailing . or - being the sentence's, not the name's.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.\-]*[\w])", re.UNICODE)
ROOM_MENTIONS = ("room", "here")


@dataclass
class Mentioned:
    """What a body's mentions turned out to be, outside code: the users named (by id, in
    order of first mention) and whether it called the room (`@room`) or those online
    (`@here`)."""

    user_ids: list[int] = field(default_factory=list)
    room: bool = False
    here: bool = False


def mention_names(source: str) -> set[str]:
    """Every `@name` in the source, code included (the renderer decides which count)."""
    return set(MENTION.findall(source)) if "@" in source else set()


def _mention_span(found: re.Match[str], users: Mapping[str, int], mentioned: Mentioned) -> str:
    name = found.group(1)
    text = html_lib.escape(found.group(0), quote=False)
    if name.lower() in ROOM_MENTIONS:
        if name.lower() == "room":
            mentioned.room = True
        else:
            mentioned.here = True
        return f'<span class="mention" data-mention="{name.lower()}">{text}</span>'
    user_id = users.get(name)
    if user_id is None:
        return text
    if user_id not in mentioned.user_ids:
        mentioned.user_ids.append(user_id)
    return f'<span class="mention" data-user-id="{user_id}">{text}</span>'


def _mentions(state: StateCore) -> None:
    """Known `@names`, `@room` and `@here` in text as mention spans; code is other tokens,
    and a link's text is left as it is."""
    users: Mapping[str, int] | None = state.env.get("mention_users")
    mentioned: Mentioned | None = state.env.get("mentioned")
    if users is None or mentioned is None:
        return
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        in_link = 0
        for child in token.children:
            if child.type == "link_open":
                in_link += 1
            elif child.type == "link_close":
                in_link -= 1
            if child.type != "text" or in_link or "@" not in child.content:
                children.append(child)
                continue
            content, at = child.content, 0
            for found in MENTION.finditer(content):
                if found.group(1).lower() not in ROOM_MENTIONS and found.group(1) not in users:
                    continue
                if found.start() > at:
                    children.append(_text_token(content[at : found.start()]))
                span = Token("html_inline", "", 0)
                span.content = _mention_span(found, users, mentioned)
                children.append(span)
                at = found.end()
            if at == 0:
                children.append(child)
            elif at < len(content):
                children.append(_text_token(content[at:]))
        token.children = children


def _text_token(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_markdown.core.ruler.push("mentions", _mentions)


def _linkifier() -> LinkifyIt:
    # markdown-it holds the linkifier only when linkify-it-py is installed, as it is here.
    found = _markdown.linkify
    if found is None:  # pragma: no cover
        raise ImportError("linkify-it-py is required to render messages")
    return found


_linkify = _linkifier()


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # A code block's class names its language and nothing else; a span is a mention,
    # made by the renderer, never by the source (raw HTML is shown as text).
    if tag == "span":
        return value if _MENTION_ATTRIBUTES.get(attribute, _NOTHING).fullmatch(value) else None
    if attribute == "class" and not _LANGUAGE_CLASS.fullmatch(value):
        return None
    return value


_NOTHING = re.compile(r"(?!)")
_MENTION_ATTRIBUTES = {
    "class": re.compile(r"mention"),
    "data-user-id": re.compile(r"[1-9][0-9]{0,17}"),
    "data-mention": re.compile(r"room|here"),
}


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


def render_with_mentions(source: str, users: Mapping[str, int]) -> tuple[str, Mentioned]:
    """The HTML, with `@name` of the users given (name as written: id) and `@room` and
    `@here` as mention spans, and what was mentioned outside code."""
    mentioned = Mentioned()
    env = {"mention_users": users, "mentioned": mentioned}
    return _cleaner.clean(_markdown.render(source, env)).strip(), mentioned


def parse_and_clean(source: str) -> str:
    """The full path: render with markdown-it, then sanitize with nh3."""
    return _cleaner.clean(_markdown.render(source)).strip()
