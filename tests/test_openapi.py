"""The OpenAPI document is valid, generated from the models, and lists every route."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from parley.api import PREFIX

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - IGNORED_METHODS:
            routes.add((method.lower(), path))
    return routes


def test_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_lists_every_api_route_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    assert documented == api_routes(app)
    assert len(documented) >= 30


def test_every_operation_documents_its_bodies_and_the_error_shape(client: FlaskClient) -> None:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert {"ErrorOut", "MessageOut", "RoomOut", "UserOut"} <= set(schemas)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], (method, path)
            assert "default" not in operation["responses"], (method, path)
            errors = [code for code in operation["responses"] if int(code) >= 400]
            assert "400" in errors, (method, path)
            for code in errors:
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
            for parameter in operation["parameters"]:
                assert parameter["in"] in ("path", "query")


def test_request_schemas_come_from_the_pydantic_models(client: FlaskClient) -> None:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    send = document["paths"][f"{PREFIX}/rooms/{{room_id}}/messages"]["post"]
    ref = send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["required"] == ["body"]
    assert schema["additionalProperties"] is False
    history = document["paths"][f"{PREFIX}/rooms/{{room_id}}/messages"]["get"]
    names = {p["name"] for p in history["parameters"]}
    assert names == {"room_id", "before", "after", "around", "limit"}


def test_docs_page_serves_swagger_ui_from_the_vendored_files(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{PREFIX}/openapi.json" in html
    assert "<script>" not in html  # no inline script
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        assert len(bundle.data) > 100_000
    with client.get("/static/api-docs.js") as script:
        assert script.status_code == 200


def responses_of(client: FlaskClient, method: str, path: str) -> set[str]:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    return set(document["paths"][PREFIX + path][method]["responses"])


def test_routes_that_answer_created_or_existing_document_both(client: FlaskClient) -> None:
    assert {"200", "201"} <= responses_of(client, "post", "/dm")
    assert {"200", "201"} <= responses_of(client, "post", "/rooms/{room_id}/join")
    assert {"200", "201"} <= responses_of(client, "post", "/rooms/{room_id}/members")
    assert {"200", "201"} <= responses_of(client, "post", "/rooms/{room_id}/messages")


def test_errors_each_route_can_give_are_documented(client: FlaskClient) -> None:
    send = responses_of(client, "post", "/rooms/{room_id}/messages")
    # Sends spend the user's send budget.
    assert {"400", "401", "403", "404", "409", "413", "415", "422", "429"} <= send
    login = responses_of(client, "post", "/auth/login")
    assert {"400", "401", "403", "413", "415", "422", "429", "503"} <= login
    assert "404" not in login
    # 503: the database could not be reached (every route reads it).
    assert {"400", "401", "403", "503"} == responses_of(client, "get", "/users/me") - {"200"}


def test_docs_page_has_a_strict_content_security_policy(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    policy = dict(
        part.strip().split(" ", 1)
        for part in page.headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["Content-Security-Policy"]
    assert "http" not in page.headers["Content-Security-Policy"]


def test_docs_assets_serve_only_what_the_docs_page_loads(client: FlaskClient) -> None:
    for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html", "index.j2"):
        with client.get(f"/api/docs/assets/{name}") as response:
            assert response.status_code == 404, name
            assert response.get_json()["error"]["code"] == "not_found"
    with client.get("/api/docs/assets/swagger-ui.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
