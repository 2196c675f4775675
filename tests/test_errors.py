"""Every error has one JSON shape and the right 4xx status; no input gets a 500."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from parley import create_app
from parley.api import PREFIX
from support import Member, assert_error, make_room

BAD_BODIES = [
    b"",
    b"null",
    b"[]",
    b"{}",
    b'"text"',
    b"12345678901234567890123456789012345678901234567890",
    b"1e999",
    b'{"a":',
    b"\xff\xfe\x00",
    b'{"body": "\\ud800", "name": "\\udfff", "username": "\\ud83d"}',
    b'{"body": "a\\u0000b", "name": "x\\u0000", "q": "\\u0000"}',
    b'{"body": null, "name": 5, "user_id": "1", "message_id": true, "kind": "direct"}',
    b'{"user_id": 99999999999999999999999, "message_id": -1, "minutes": 1e308}',
    b'{"body": {"nested": [1, 2, 3]}, "name": ["a"], "topic": {"x": 1}}',
    b"[" * 5000 + b"]" * 5000,
    b'{"extra": "field", "another": 1}',
]

BAD_IDS = ["0", "-1", "abc", "99999999999999999999", "1.5", "%00", "1e3"]

BAD_QUERIES = [
    "limit=abc",
    "limit=0",
    "limit=100000000000000000000000",
    "before=-5",
    "after=abc",
    "q=%00",
    "q=%ED%A0%80",
    "q=" + "x" * 300,
    "room_id=0",
    "before=1&after=2",
]


def fill(path: str, room_id: int, value: str | None = None) -> str:
    return re.sub(r"\{\w+\}", lambda m: value or str(room_id), path)


def operations(client: FlaskClient) -> Iterator[tuple[str, str]]:
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    for path, ops in document["paths"].items():
        for method in ops:
            yield method.upper(), path


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/no/such/route"), 404, "not_found")
    assert_error(client.get("/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_json_405_listing_the_allowed_ones(alice: Member) -> None:
    error = assert_error(alice.delete("/api/v1/rooms/directory"), 405, "method_not_allowed")
    assert "GET" in error["details"]["allowed"]


def test_body_over_one_mebibyte_is_a_json_413(alice: Member) -> None:
    room = make_room(alice, "general")
    body = b'{"body": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    response = alice.post(
        f"/api/v1/rooms/{room['id']}/messages",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


def test_non_json_content_type_is_a_json_415(alice: Member) -> None:
    response = alice.post("/api/v1/rooms", data="name=general", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    form = alice.post("/api/v1/rooms", data={"name": "general"})
    assert_error(form, 415, "unsupported_media_type")


def test_malformed_json_is_a_json_400(alice: Member) -> None:
    response = alice.post("/api/v1/rooms", data="{nope", content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_schema_failure_says_which_field_and_why(alice: Member) -> None:
    response = alice.post("/api/v1/rooms", json={"name": "", "kind": "galaxy", "extra": 1})
    error = assert_error(response, 422, "validation_error")
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert set(fields) == {"body.name", "body.kind", "body.extra"}
    assert all(f["message"] for f in fields.values())
    assert fields["body.extra"]["type"] == "extra_forbidden"


def test_query_failure_names_the_query_field(alice: Member) -> None:
    room = make_room(alice, "general")
    response = alice.get(f"/api/v1/rooms/{room['id']}/messages?limit=500")
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["fields"][0]["field"] == "query.limit"


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_ids_that_are_not_database_ids_are_404(alice: Member, bad_id: str) -> None:
    assert_error(alice.get(f"/api/v1/rooms/{bad_id}"), 404, "not_found")
    assert_error(alice.patch(f"/api/v1/messages/{bad_id}", json={"body": "x"}), 404)


# The operations in shards, so that the suite's workers take them side by side.
MALFORMED_SHARDS = 3


@pytest.mark.parametrize("shard", range(MALFORMED_SHARDS))
def test_no_malformed_input_to_any_route_gets_a_500(
    app: Flask, make_user: Callable[..., Member], shard: int
) -> None:
    """Throw bad bodies, ids and queries at every documented operation (of one shard:
    every third, in the document's order)."""
    alice = make_user("alice")
    admin = make_user("root", role="Administrator")
    room = make_room(alice, "general")
    failures: list[tuple[str, str, str | bytes, int]] = []
    for method, path in list(operations(alice.client))[shard::MALFORMED_SHARDS]:
        for caller in (alice, admin):
            for body in BAD_BODIES:
                url = fill(path, room["id"])
                response = caller.request(
                    method, url, data=body, headers={"Content-Type": "application/json"}
                )
                if response.status_code >= 500:
                    failures.append((method, url, body[:40], response.status_code))
                elif response.status_code >= 400:
                    assert_error(response, response.status_code)
            for bad_id in BAD_IDS:
                url = fill(path, room["id"], bad_id)
                if url == fill(path, room["id"]):
                    continue
                response = caller.request(method, url, json={})
                if response.status_code >= 500:
                    failures.append((method, url, "{}", response.status_code))
            for query in BAD_QUERIES:
                url = fill(path, room["id"]) + "?" + query
                response = caller.request(method, url, json={"body": "hi"})
                if response.status_code >= 500:
                    failures.append((method, url, query, response.status_code))
    assert failures == []


def test_healthz_answers_while_the_process_is_alive(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "parley.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_a_database_that_cannot_be_reached_is_a_json_503_with_retry_after(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "parley.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    response = app.test_client().post(
        "/api/v1/auth/login", json={"username": "alice", "password": "e2e-password-1"}
    )
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_unauthenticated_api_calls_get_401(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/rooms"), 401, "unauthorized")
    assert_error(
        client.get("/api/v1/rooms", headers={"Authorization": "Bearer nope"}),
        401,
        "invalid_token",
    )


def test_chunked_body_over_the_limit_is_a_json_413_not_invalid_json(alice: Member) -> None:
    room = make_room(alice, "general")
    body = b'{"body": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = alice.post(
        f"/api/v1/rooms/{room['id']}/messages",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")
