"""The page shell at `/`: its security policy, its assets, and no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

import parley.web
from parley.headers import PAGE_CSP

STATIC = Path(parley.web.__file__).resolve().parent.parent / "static"


class ShellParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script = False
        self.handlers: list[str] = []
        self.style_attributes = 0
        self.assets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [name for name in found if name.startswith("on")]
        self.style_attributes += "style" in found
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        for name in ("src", "href"):
            value = found.get(name)
            if value and value.startswith("/static/"):
                self.assets.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def status_of(client: FlaskClient, url: str) -> int:
    with client.get(url) as response:  # static files are streamed: close them
        return int(response.status_code)


def test_the_page_forbids_inline_script_eval_and_framing(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy == PAGE_CSP
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_shell_has_no_inline_script_handlers_or_styles(client: FlaskClient) -> None:
    shell = ShellParser()
    shell.feed(client.get("/").get_data(as_text=True))
    assert shell.scripts == [{"type": "module", "src": "/static/app/main.js"}]
    assert not shell.inline_script
    assert shell.handlers == []
    assert shell.style_attributes == 0


def test_every_asset_the_shell_names_is_served(client: FlaskClient) -> None:
    shell = ShellParser()
    shell.feed(client.get("/").get_data(as_text=True))
    assert shell.assets
    for asset in shell.assets:
        assert status_of(client, asset) == 200, asset


def test_the_page_modules_import_only_served_files(client: FlaskClient) -> None:
    for module in sorted((STATIC / "app").glob("*.js")):
        source = module.read_text()
        assert "eval(" not in source and "new Function" not in source, module.name
        for target in re.findall(r'^import .* from "(.+)";$', source, re.MULTILINE):
            url = "/static/app/" + target.removeprefix("./")
            url = url.replace("/app/../", "/")
            assert status_of(client, url) == 200, (module.name, target)


def test_a_server_without_its_browser_files_says_how_to_fix_it(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parley.web, "SOCKET_CLIENT", Path("vendor") / "missing.js")
    response = client.get("/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "make web" in page
    assert "main.js" not in page


@pytest.mark.parametrize("path", ["/", "/static/app/main.js"])
def test_page_and_assets_need_no_login(client: FlaskClient, path: str) -> None:
    assert status_of(client, path) == 200


def test_favicon_ico_is_the_pages_icon(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.data == (STATIC / "app" / "icon.svg").read_bytes()
