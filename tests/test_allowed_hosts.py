"""PARLEY_ALLOWED_HOSTS: any Host by default; when set, every other Host gets 400 bad_host."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from parley import create_app
from parley.config import load_config
from support import assert_error

DOCUMENT = "/api/v1/openapi.json"


def app_allowing(hosts: list[str], proxies: int = 0) -> Flask:
    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PARLEY_ALLOWED_HOSTS": hosts,
            "PARLEY_TRUSTED_PROXIES": proxies,
        },
    )


def test_allowed_hosts_are_read_from_a_comma_separated_list(tmp_path: Path) -> None:
    env = {"PARLEY_ALLOWED_HOSTS": " chat.example.org, .example.net ,,"}
    config = load_config("testing", str(tmp_path), env)
    assert config["PARLEY_ALLOWED_HOSTS"] == ["chat.example.org", ".example.net"]
    assert load_config("testing", str(tmp_path), {})["PARLEY_ALLOWED_HOSTS"] == []


def test_without_allowed_hosts_any_host_is_served(client: FlaskClient) -> None:
    response = client.get(DOCUMENT, headers={"Host": "anything.example"})
    assert response.status_code == 200


def test_other_hosts_get_a_json_400_bad_host_everywhere() -> None:
    client = app_allowing(["chat.example.org"]).test_client()
    for path in (DOCUMENT, "/", "/api/docs", "/socket.io/?EIO=4&transport=polling"):
        response = client.get(path, headers={"Host": "attacker.example"})
        assert_error(response, 400, "bad_host")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(DOCUMENT, headers={"Host": "Chat.Example.org:8443"}).status_code == 200


def test_a_leading_dot_allows_every_subdomain() -> None:
    client = app_allowing([".example.org"]).test_client()
    assert client.get(DOCUMENT, headers={"Host": "chat.example.org"}).status_code == 200
    assert_error(client.get(DOCUMENT, headers={"Host": "example.org.evil"}), 400, "bad_host")


def test_health_probes_answer_whatever_the_host() -> None:
    client = app_allowing(["chat.example.org"]).test_client()
    assert client.get("/healthz", headers={"Host": "10.0.0.7:5000"}).status_code == 200


def test_behind_a_proxy_the_forwarded_host_is_checked() -> None:
    client = app_allowing(["chat.example.org"], proxies=1).test_client()
    forwarded = {"Host": "parley:5000", "X-Forwarded-Host": "chat.example.org"}
    assert client.get(DOCUMENT, headers=forwarded).status_code == 200
    spoofed = {"Host": "parley:5000", "X-Forwarded-Host": "attacker.example"}
    assert_error(client.get(DOCUMENT, headers=spoofed), 400, "bad_host")
