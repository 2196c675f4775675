"""schemathesis over the OpenAPI document, against a real `parley run`: zero failures.

Every operation is fuzzed with data that fits its schema and data that does not, with a
fixed seed (derandomized Hypothesis), authenticated as a registered user, after a setup
that makes rooms, messages and a direct room for the generated ids to find. It runs on
two servers: rate limits on (the defaults, but registration roomy enough for the setup)
and off. The operations that end the token they are sent with run in a pass of their
own, each case with a fresh user, so the rest is never left without a token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from servers import LiveServer, start_server

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Cases per operation and generation mode: about 40 operations, two modes, two servers.
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}

# Operations that end the token they are sent with, or the account behind it.
TOKEN_DESTROYING = [
    "logout",
    "revoke_token",
    "end_web_session",
    "revoke_session",
    "update_me",
    "admin_update_user",
]

SERVER_CONFIGS = {
    "limits-on": {"PARLEY_RATE_LIMITS": "on", "PARLEY_REGISTER_RATE_LIMIT": "100000/hour"},
    "limits-off": {"PARLEY_RATE_LIMITS": "off"},
}


def passphrase() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(4))


@pytest.fixture(scope="module", params=list(SERVER_CONFIGS))
def fuzzed_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp_path: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    yield from start_server(tmp_path, database_url=None, extra_env=SERVER_CONFIGS[request.param])


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/api/v1{path}", timeout=30, **kwargs)
        assert response.status_code == expect, (method, path, response.text[:300])
        return response.json() if response.content else None


def register(url: str, prefix: str) -> tuple[Api, dict[str, Any]]:
    username = f"{prefix}{secrets.token_hex(3)}"
    body = Api(url).call(
        "POST", "/auth/register", 201, json={"username": username, "password": passphrase()}
    )
    return Api(url, body["token"]), body["user"]


def seed(url: str) -> Api:
    """Users, rooms of each kind, messages and a live broadcast for generated ids to hit."""
    owner, _ = register(url, "fuzzer")
    other, other_user = register(url, "member")
    tag = secrets.token_hex(3)
    public = owner.call("POST", "/rooms", 201, json={"name": f"lobby {tag}", "kind": "public"})
    private = owner.call("POST", "/rooms", 201, json={"name": f"back {tag}", "kind": "private"})
    other.call("POST", "/rooms", 201, json={"name": f"elsewhere {tag}", "kind": "public"})
    other.call("POST", f"/rooms/{public['id']}/join", 201)
    owner.call("POST", f"/rooms/{private['id']}/members", 201, json={"user_id": other_user["id"]})
    owner.call("POST", "/dm", 201, json={"user_id": other_user["id"]})
    for room in (public, private):
        for n in range(3):
            owner.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": f"hello {n}"})
            other.call("POST", f"/rooms/{room['id']}/messages", 201, json={"body": f"hi {n}"})
    owner.call("POST", "/auth/tokens", 201, json={"name": "spare"})
    return owner


def fuzz(
    schema: Any,
    base_url: str,
    headers: Callable[[], dict[str, str]],
    shard: int = 0,
    shards: int = 1,
) -> list[str]:
    """Run every operation of the schema (of one shard: every `shards`th, in the
    document's order); the failures found, one line each."""
    failures = []
    for result in list(schema.get_all_operations())[shard::shards]:
        operation = result.ok()
        for mode, examples in EXAMPLES.items():

            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                case.call_and_validate(base_url=base_url, headers=headers(), checks=CHECKS)

            try:
                run()
            except Exception as exc:  # every failure is collected, then all are shown
                # A flaky one (it failed once, not when replayed) says why only in its
                # sub-exceptions.
                inner = "; ".join(repr(e)[:600] for e in getattr(exc, "exceptions", ()))
                failures.append(f"{operation.label} ({mode}): {exc} {inner}".rstrip())
    return failures


def load_schema(server: LiveServer) -> Any:
    document = requests.get(f"{server.url}/api/v1/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


# The operations in shards, so that the suite's workers fuzz them side by side.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_fuzzing_the_api_finds_no_failure(fuzzed_server: LiveServer, shard: int) -> None:
    owner = seed(fuzzed_server.url)
    schema = load_schema(fuzzed_server).exclude(operation_id=TOKEN_DESTROYING)
    token_headers = {"Authorization": str(owner.session.headers["Authorization"])}
    failures = fuzz(schema, fuzzed_server.url, lambda: token_headers, shard, SHARDS)
    owner.call("GET", "/users/me", 200)  # the token outlived the run
    assert not failures, "\n\n".join(failures)


def test_fuzzing_token_destroying_operations_finds_no_failure(fuzzed_server: LiveServer) -> None:
    seed(fuzzed_server.url)
    schema = load_schema(fuzzed_server).include(operation_id=TOKEN_DESTROYING)

    def fresh_user() -> dict[str, str]:
        api, _ = register(fuzzed_server.url, "victim")
        return {"Authorization": str(api.session.headers["Authorization"])}

    failures = fuzz(schema, fuzzed_server.url, fresh_user)
    assert not failures, "\n\n".join(failures)
