"""Message markdown becomes safe HTML: a corpus of XSS payloads renders inert, and
ordinary markdown renders as people expect.

"Inert" is checked on the parsed output, not by string matching alone: every tag and
attribute must be on an allowlist written here (independent of the one in
parley.rendering), every URL must be relative or http/https/mailto as a browser would
parse its scheme, and every link carries rel="nofollow noopener noreferrer".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from parley.rendering import render_markdown
from support import Member, make_room, send

LINK_REL = "nofollow noopener noreferrer"
SAFE_SCHEMES = {"http", "https", "mailto"}
# tag -> the attributes it may carry
SAFE_TAGS: dict[str, set[str]] = {
    **{
        tag: set()
        for tag in [
            *("p", "br", "hr", "strong", "em", "del", "s", "pre", "blockquote", "ul", "li"),
            *("h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr"),
        ]
    },
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
# Every attribute a browser may load or navigate to, whether or not it is allowed above.
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "cite",
    "srcset",
    "xlink:href",
    "codebase",
    "dynsrc",
    "lowsrc",
}
# "javascript" in fullwidth letters
FULLWIDTH_JAVASCRIPT = "".join(chr(ord(c) + 0xFEE0) for c in "javascript")
EVENT_HANDLER = re.compile(r"^on\w+$", re.IGNORECASE)
# What a browser strips before reading a URL's scheme (WHATWG URL parsing).
_LEADING_TRAILING = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see in an attribute value (already entity-decoded)."""
    url = url.strip(_LEADING_TRAILING)
    url = re.sub(r"[\t\n\r]", "", url)
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


class Elements(HTMLParser):
    """Every start tag with its entity-decoded attributes, and anything that is not markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"declaration {data!r}")


def assert_inert(html: str) -> None:
    assert "<script" not in html.lower(), html
    parser = Elements()
    parser.feed(html)
    parser.close()
    assert parser.other == [], html
    for tag, attrs in parser.tags:
        assert tag in SAFE_TAGS, (tag, html)
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), ("duplicate attribute", tag, html)
        for name, value in attrs:
            assert not EVENT_HANDLER.match(name), (tag, name, html)
            assert name in SAFE_TAGS[tag], (tag, name, html)
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value or "")
                assert scheme is None or scheme in SAFE_SCHEMES, (tag, name, value, html)
        if tag == "a":
            assert dict(attrs).get("rel") == LINK_REL, html


XSS = [
    # script tags
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param("<SCRIPT>alert(1)</SCRIPT>", id="script-uppercase"),
    pytest.param("<ScRiPt>alert(1)</sCrIpT>", id="script-mixed-case"),
    pytest.param("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-nested"),
    pytest.param("<<script>script>alert(1)<</script>/script>", id="script-doubled-brackets"),
    pytest.param("<scr\nipt>alert(1)</script>", id="script-split-by-newline"),
    pytest.param("<script\n>alert(1)</script\n>", id="script-newline-before-bracket"),
    pytest.param("<script src=https://evil.example/x.js></script>", id="script-src"),
    pytest.param("<script>alert(1)", id="script-unclosed"),
    pytest.param("before <script>alert(1)</script> after", id="script-inline"),
    pytest.param("<scr\x00ipt>alert(1)</script>", id="script-nul-inside-name"),
    pytest.param("*<script>alert(1)</script>*", id="script-in-emphasis"),
    # event handler attributes
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param('<img src="x" onerror="alert(1)">', id="img-onerror-quoted"),
    pytest.param("<IMG SRC=x OnErRoR=alert(1)>", id="img-onerror-mixed-case"),
    pytest.param("<img/src/onerror=alert(1)>", id="img-slashes"),
    pytest.param("<img src=x on\x00error=alert(1)>", id="img-onerror-nul"),
    pytest.param("<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("<svg/onload=alert(1)//", id="svg-onload-unclosed"),
    pytest.param("<body onload=alert(1)>", id="body-onload"),
    pytest.param('<div onclick="alert(1)">click</div>', id="div-onclick"),
    pytest.param("<div\nonclick=alert(1)>x</div>", id="div-onclick-newline"),
    pytest.param('<a href="https://e.example" onmouseover="alert(1)">x</a>', id="a-onmouseover"),
    pytest.param("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    pytest.param("[x](https://e.example)<b onclick=alert(1)>", id="handler-after-link"),
    # javascript: URLs in markdown links, autolinks and reference links
    pytest.param("[x](javascript:alert(1))", id="link-javascript"),
    pytest.param("[x](JaVaScRiPt:alert(1))", id="link-javascript-mixed-case"),
    pytest.param('[x](javascript:alert(1) "title")', id="link-javascript-with-title"),
    pytest.param("[x](&#106;avascript:alert(1))", id="link-javascript-decimal-entity"),
    pytest.param("[x](&#0000106avascript:alert(1))", id="link-javascript-padded-entity"),
    pytest.param(
        "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
        id="link-javascript-hex-entities",
    ),
    pytest.param("[x](javascript&colon;alert(1))", id="link-javascript-named-colon"),
    pytest.param("[x](javascript&#58;alert(1))", id="link-javascript-entity-colon"),
    pytest.param("[x](javascript%3Aalert(1))", id="link-javascript-percent-colon"),
    pytest.param("[x]( javascript:alert(1))", id="link-javascript-space-prefixed"),
    pytest.param("[x](%20javascript:alert(1))", id="link-javascript-percent-space-prefixed"),
    pytest.param("[x](&#x09;javascript:alert(1))", id="link-javascript-tab-entity-prefixed"),
    pytest.param("[x](java\tscript:alert(1))", id="link-javascript-tab-inside"),
    pytest.param("[x](java&#x09;script:alert(1))", id="link-javascript-tab-entity-inside"),
    pytest.param("[x](jav&#x0A;ascript:alert(1))", id="link-javascript-newline-entity-inside"),
    pytest.param("[x](<javascript:alert(1)>)", id="link-javascript-angle-destination"),
    pytest.param("[x](javascript://%0Aalert(1))", id="link-javascript-comment-newline"),
    pytest.param("[x](javascript:/**/alert(1))", id="link-javascript-inline-comment"),
    pytest.param("<javascript:alert(1)>", id="autolink-javascript"),
    pytest.param("<JAVASCRIPT:alert(1)>", id="autolink-javascript-uppercase"),
    pytest.param("javascript:alert(1)", id="bare-javascript-url"),
    pytest.param("see javascript:alert(1)//https://e.example", id="bare-javascript-with-url"),
    pytest.param("[x][r]\n\n[r]: javascript:alert(1)", id="reference-javascript"),
    pytest.param("[x][r]\n\n[r]: <javascript:alert(1)> 'title'", id="reference-javascript-angle"),
    pytest.param("[r]\n\n[R]: JaVaScRiPt:alert(1)", id="reference-javascript-shortcut"),
    pytest.param('<a href="javascript:alert(1)">x</a>', id="raw-anchor-javascript"),
    pytest.param("<a href=javascript:alert(1)>x", id="raw-anchor-javascript-unclosed"),
    # data: URLs in links and images
    pytest.param("[x](data:text/html,<script>alert(1)</script>)", id="link-data-html"),
    pytest.param(
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", id="link-data-base64"
    ),
    pytest.param("[x][d]\n\n[d]: data:text/html;base64,PHNjcmlwdD4=", id="reference-data"),
    pytest.param("<data:text/html,alert(1)>", id="autolink-data"),
    pytest.param("![x](data:image/svg+xml,<svg onload=alert(1)>)", id="image-data-svg"),
    pytest.param(
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="image-data-svg-base64"
    ),
    pytest.param("![x](data:image/png;base64,iVBORw0KGgo=)", id="image-data-png"),
    pytest.param("![x](DATA:text/html,alert(1))", id="image-data-uppercase"),
    # vbscript: and other schemes
    pytest.param("[x](vbscript:msgbox(1))", id="link-vbscript"),
    pytest.param("![x](VBScript:msgbox(1))", id="image-vbscript"),
    pytest.param("<vbscript:msgbox(1)>", id="autolink-vbscript"),
    pytest.param("[x](file:///etc/passwd)", id="link-file"),
    pytest.param("[x](livescript:alert(1))", id="link-livescript"),
    # SVG and MathML
    pytest.param("<svg><script>alert(1)</script></svg>", id="svg-script"),
    pytest.param(
        "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
        id="svg-foreignobject",
    ),
    pytest.param('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', id="svg-a"),
    pytest.param("<svg><animate onbegin=alert(1) attributeName=x dur=1s>", id="svg-animate"),
    pytest.param("<math><mi xlink:href=javascript:alert(1)>x</mi></math>", id="mathml-href"),
    # frames, objects, embeds
    pytest.param('<iframe src="javascript:alert(1)"></iframe>', id="iframe-javascript"),
    pytest.param('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    pytest.param("<iframe src=https://evil.example>", id="iframe-unclosed"),
    pytest.param('<object data="javascript:alert(1)"></object>', id="object-javascript"),
    pytest.param("<object data=x.swf><param name=x value=y></object>", id="object-param"),
    pytest.param('<embed src="data:image/svg+xml;base64,PHN2Zz4=">', id="embed-data"),
    # styles
    pytest.param('<style>body{background:url("javascript:alert(1)")}</style>', id="style-tag"),
    pytest.param('<style>@import "https://evil.example/x.css";</style>', id="style-import"),
    pytest.param('<div style="width: expression(alert(1))">x</div>', id="style-expression"),
    pytest.param(
        '<p style="background-image:url(javascript:alert(1))">x</p>', id="style-url-javascript"
    ),
    pytest.param("| a |\n|:-:|\n| x |\n\n<td style=x:expression(alert(1))>", id="style-in-table"),
    # documents: meta, base, link
    pytest.param(
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh"
    ),
    pytest.param('<base href="javascript:alert(1)//">', id="base-href"),
    pytest.param("<link rel=stylesheet href=javascript:alert(1)>", id="link-stylesheet"),
    # forms
    pytest.param('<form action="javascript:alert(1)"><input type=submit></form>', id="form"),
    pytest.param('<button formaction="javascript:alert(1)">x</button>', id="button-formaction"),
    pytest.param("<input onfocus=alert(1) autofocus>", id="input-onfocus"),
    pytest.param("<textarea onfocus=alert(1) autofocus>", id="textarea-onfocus"),
    pytest.param("<select onchange=alert(1)><option>x</option></select>", id="select"),
    pytest.param("<isindex action=javascript:alert(1) type=image>", id="isindex"),
    # broken and unclosed HTML
    pytest.param("<img src=x onerror=alert(1)", id="broken-img-unclosed"),
    pytest.param('<a href="javascript:alert(1)', id="broken-anchor-open-quote"),
    pytest.param('<div onclick="alert(1)"', id="broken-div-unclosed"),
    pytest.param("<<img src=x onerror=alert(1)//<", id="broken-double-open"),
    pytest.param("</p><script>alert(1)</script><p>", id="broken-close-first"),
    pytest.param('<img """><script>alert(1)</script>">', id="broken-quotes"),
    pytest.param('<p title="</p><script>alert(1)</script>">', id="broken-attribute-script"),
    pytest.param("<img src=`x` onerror=alert(1)>", id="broken-backticks"),
    pytest.param("<a\x0bhref=javascript:alert(1)>x</a>", id="broken-vertical-tab"),
    # HTML comments, CDATA, declarations
    pytest.param("<!-- <script>alert(1)</script> -->", id="comment-script"),
    pytest.param("<!--><script>alert(1)</script>-->", id="comment-abrupt"),
    pytest.param("<!--[if IE]><script>alert(1)</script><![endif]-->", id="comment-conditional"),
    pytest.param("<!-- x --!><img src=x onerror=alert(1)>", id="comment-bang-close"),
    pytest.param("<![CDATA[<script>alert(1)</script>]]>", id="cdata"),
    pytest.param('<?xml version="1.0"?><script>alert(1)</script>', id="processing-instruction"),
    pytest.param("<!DOCTYPE html><script>alert(1)</script>", id="doctype"),
    # markdown image tricks
    pytest.param("![x](javascript:alert(1))", id="image-javascript"),
    pytest.param('![x](" onerror="alert(1))', id="image-quote-onerror"),
    pytest.param('![x](https://e.example/a.png" onerror="alert(1))', id="image-url-quote-onerror"),
    pytest.param(
        '![x](https://e.example/a.png "\\" onerror=\\"alert(1)")', id="image-title-onerror"
    ),
    pytest.param('![" onerror="alert(1)](https://e.example/a.png)', id="image-alt-onerror"),
    pytest.param("![<script>alert(1)</script>](https://e.example/a.png)", id="image-alt-script"),
    pytest.param("![x](x onerror=alert(1))", id="image-unquoted-onerror"),
    pytest.param("![x][r]\n\n[r]: javascript:alert(1)", id="image-reference-javascript"),
    pytest.param("[![x](javascript:alert(1))](javascript:alert(1))", id="image-in-link"),
    pytest.param(
        "![x](https://e.example/a.png)<img src=x onerror=alert(1)>", id="image-then-raw-img"
    ),
    # link text and title tricks
    pytest.param('[x](https://e.example "\\" onclick=\\"alert(1)")', id="link-title-onclick"),
    pytest.param('[x](https://e.example "<script>alert(1)</script>")', id="link-title-script"),
    pytest.param("[<img src=x onerror=alert(1)>](https://e.example)", id="link-text-img"),
    pytest.param('[x](https://e.example/"onmouseover="alert(1))', id="link-url-quote"),
    pytest.param('https://e.example/"onmouseover=alert(1)//', id="bare-url-quote"),
    pytest.param("https://e.example/<script>alert(1)</script>", id="bare-url-script"),
    pytest.param("[a](http://x.example?<script>)", id="link-url-script"),
    # backslash and unicode tricks
    pytest.param("\\<script>alert(1)\\</script>", id="backslash-escaped-script"),
    pytest.param("[x](\\javascript:alert(1))", id="backslash-before-scheme"),
    pytest.param("[x](java\\script:alert(1))", id="backslash-inside-scheme"),
    pytest.param("[x](javascript\\:alert(1))", id="backslash-before-colon"),
    pytest.param("\\[x](javascript:alert(1))", id="backslash-escaped-bracket"),
    pytest.param(f"[x]({FULLWIDTH_JAVASCRIPT}:alert(1))", id="fullwidth-javascript"),
    pytest.param("[x](javascript\u200b:alert(1))", id="zero-width-space"),
    pytest.param("[x](\u202ejavascript:alert(1))", id="right-to-left-override"),
    pytest.param("[x](\ufeffjavascript:alert(1))", id="byte-order-mark"),
    pytest.param("[x](%01javascript:alert(1))", id="percent-control-prefix"),
    pytest.param("[x](\x00javascript:alert(1))", id="nul-prefix"),
    pytest.param("[x](java\x00script:alert(1))", id="nul-inside-scheme"),
    pytest.param("\uff1cscript\uff1ealert(1)\uff1c/script\uff1e", id="fullwidth-brackets"),
    pytest.param("<\u0073cript>alert(1)</script>", id="unicode-escape-letter"),
    # code, where markup must stay text
    pytest.param("```\n<script>alert(1)</script>\n```", id="code-block-script"),
    pytest.param('```" onclick="alert(1)\nx\n```', id="code-info-string-quote"),
    pytest.param("```js onclick=alert(1)\nx\n```", id="code-info-string-attribute"),
    pytest.param("`<img src=x onerror=alert(1)>`", id="inline-code-img"),
    pytest.param("| a |\n|---|\n| <img src=x onerror=alert(1)> |", id="table-cell-img"),
]


@pytest.mark.parametrize("source", XSS)
def test_xss_payload_renders_inert(source: str) -> None:
    assert_inert(render_markdown(source))


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("https://e.example", "https"),
        (" \x01JaVa\tScRiPt:alert(1)", "javascript"),
        ("java\nscript:alert(1)", "javascript"),
        ("java%09script:alert(1)", None),
        ("//e.example/a", None),
        ("/relative:path", None),
    ],
)
def test_the_checker_reads_url_schemes_the_way_a_browser_does(url: str, scheme: str | None) -> None:
    assert url_scheme(url) == scheme


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="JAVA&#x09;SCRIPT:alert(1)" rel="nofollow noopener noreferrer">x</a>',
        '<img src=" data:text/html,x">',
        '<a href="https://e.example">no rel</a>',
        "<div>not allowed</div>",
        '<p style="color:red">styled</p>',
        "<!-- comment -->",
    ],
)
def test_the_checker_rejects_what_is_not_inert(html: str) -> None:
    with pytest.raises(AssertionError):
        assert_inert(html)


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**bold** and __bold__", "<p><strong>bold</strong> and <strong>bold</strong></p>"),
        ("*italic* and _italic_", "<p><em>italic</em> and <em>italic</em></p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("use `x < y`", "<p>use <code>x &lt; y</code></p>"),
        ("```\nplain\n```", "<pre><code>plain\n</code></pre>"),
        (
            "```python\nif a < b:\n    pass\n```",
            '<pre><code class="language-python">if a &lt; b:\n    pass\n</code></pre>',
        ),
        ("    indented code", "<pre><code>indented code\n</code></pre>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("# Title\n\n###### Small", "<h1>Title</h1>\n<h6>Small</h6>"),
        ("above\n\n---\n\nbelow", "<p>above</p>\n<hr>\n<p>below</p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
            "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>",
        ),
        (
            "[site](https://e.example/a?b=1&c=2)",
            '<p><a href="https://e.example/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">'
            "site</a></p>",
        ),
        (
            '[site](http://e.example "The title")',
            '<p><a href="http://e.example" title="The title" '
            'rel="nofollow noopener noreferrer">site</a></p>',
        ),
        (
            "[site][ref]\n\n[ref]: https://e.example",
            '<p><a href="https://e.example" rel="nofollow noopener noreferrer">site</a></p>',
        ),
        (
            "[mail](mailto:someone@e.example)",
            '<p><a href="mailto:someone@e.example" rel="nofollow noopener noreferrer">mail</a></p>',
        ),
        (
            "see https://e.example/page now",
            '<p>see <a href="https://e.example/page" rel="nofollow noopener noreferrer">'
            "https://e.example/page</a> now</p>",
        ),
        (
            "<https://e.example/x>",
            '<p><a href="https://e.example/x" rel="nofollow noopener noreferrer">'
            "https://e.example/x</a></p>",
        ),
        (
            "www.example.com",
            '<p><a href="http://www.example.com" rel="nofollow noopener noreferrer">'
            "www.example.com</a></p>",
        ),
        (
            "![a cat](https://e.example/cat.png)",
            '<p><img src="https://e.example/cat.png" alt="a cat"></p>',
        ),
        ("2 < 3 & 4 > 1", "<p>2 &lt; 3 &amp; 4 &gt; 1</p>"),
        ("<b>typed tags</b> stay text", "<p>&lt;b&gt;typed tags&lt;/b&gt; stay text</p>"),
    ],
)
def test_markdown_renders_as_expected(source: str, html: str) -> None:
    rendered = render_markdown(source)
    assert rendered == html
    assert_inert(rendered)


def test_table_column_alignment_survives_sanitizing() -> None:
    html = render_markdown("| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")
    assert html == (
        "<table>\n<thead>\n<tr>\n"
        '<th align="left">l</th>\n<th align="center">c</th>\n'
        '<th align="right">r</th>\n<th>n</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td align="left">1</td>\n<td align="center">2</td>\n'
        '<td align="right">3</td>\n<td>4</td>\n'
        "</tr>\n</tbody>\n</table>"
    )
    assert_inert(html)


def test_a_link_with_a_disallowed_scheme_keeps_its_text_but_loses_its_href() -> None:
    assert render_markdown("[call](tel:123)") == (
        '<p><a rel="nofollow noopener noreferrer">call</a></p>'
    )


def test_a_message_with_an_xss_payload_is_stored_with_inert_html_and_its_source_intact(
    alice: Member,
) -> None:
    room = make_room(alice, "general")
    source = (
        '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) '
        "<script>alert(2)</script> **bold**"
    )
    response = send(alice, room["id"], source)
    assert response.status_code == 201, response.get_json()
    message = response.get_json()
    assert message["body"] == source
    assert_inert(message["html"])
    assert "<strong>bold</strong>" in message["html"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in message["html"]

    history = alice.get(f"/api/v1/rooms/{room['id']}/messages").get_json()["messages"]
    assert [(m["body"], m["html"]) for m in history] == [(source, message["html"])]


@pytest.mark.parametrize(
    "source",
    ["[x](//evil.example/path)", "![x](/api/v1/rooms)", "[x](relative/path)", "[x](#top)"],
)
def test_relative_and_scheme_relative_urls_are_dropped(source: str) -> None:
    html = render_markdown(source)
    assert "href=" not in html and "src=" not in html


def test_code_block_class_names_only_a_language() -> None:
    assert 'class="language-python"' in render_markdown("```python\nx = 1\n```")
    assert "class=" not in render_markdown('```python" onclick="x\nx = 1\n```')


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("ship it :rocket:", "<p>ship it 🚀</p>"),
        (":+1: and :thumbsup:", "<p>👍 and 👍</p>"),
        ("**:tada:**", "<p><strong>🎉</strong></p>"),
        ("`:rocket:` stays", "<p><code>:rocket:</code> stays</p>"),
        ("```\n:rocket:\n```", "<pre><code>:rocket:\n</code></pre>"),
        ("not a name :rockett: nor 10:30:45", "<p>not a name :rockett: nor 10:30:45</p>"),
    ],
)
def test_shortcodes_render_as_emoji_outside_code(source: str, html: str) -> None:
    assert render_markdown(source) == html
