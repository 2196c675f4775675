"""Every response carries the security headers; JSON may load and run nothing."""

from __future__ import annotations

from flask.testing import FlaskClient

from parley.headers import DOCS_CSP, SECURITY_HEADERS
from support import Member


def test_api_responses_carry_the_security_headers_and_a_locked_down_csp(alice: Member) -> None:
    response = alice.get("/api/v1/users/me")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )


def test_error_responses_carry_them_too(client: FlaskClient) -> None:
    response = client.get("/api/v1/no/such/route")
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_api_docs_page_gets_its_own_policy_not_the_json_one(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == DOCS_CSP
