"""The API docs page in Chromium: Swagger UI renders the whole OpenAPI 3.1 document under
the page's strict Content-Security-Policy, and nothing is fetched from another origin."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from servers import LiveServer


def test_api_docs_render_every_operation_from_this_origin_only(
    browser: Browser, web_server: LiveServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{web_server.url}/api/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        document = page.request.get(f"{web_server.url}/api/v1/openapi.json").json()
        operations = sum(len(methods) for methods in document["paths"].values())
        expect(page.locator(".opblock")).to_have_count(operations)
        assert all(url.startswith(web_server.url) for url in requested), requested
        # The only error a page may log here is the favicon it looks for by itself.
        assert [p for p in problems if "404" not in p] == [], problems
    finally:
        context.close()
