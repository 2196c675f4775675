"""The OpenAPI document must list every status a route answers in the suite.

Every response the app gives under test (the Flask test client, in this process) is
recorded as (route, method, status); at the end of the run every one must be a status
the route documents. Under xdist each worker sends what it saw to the controller, which
checks the union. tests/conftest.py imports these hooks.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, request, request_finished

from parley.api import api

SEEN_KEY = "parley_api_statuses"
_seen: set[tuple[str, str, int]] = set()


def _record(sender: Flask, response: Response, **_extra: Any) -> None:
    rule = request.url_rule
    if rule is None or not (request.endpoint or "").startswith("api."):
        return
    _seen.add((request.endpoint or "", request.method, response.status_code))


def documented_statuses() -> dict[tuple[str, str], set[int]]:
    """(endpoint, method) -> every status the OpenAPI document lists for it."""
    return {
        (f"api.{op.endpoint}", op.method): {*op.success_statuses(), *op.error_statuses()}
        for op in api.operations
    }


def undocumented(seen: set[tuple[str, str, int]]) -> list[str]:
    documented = documented_statuses()
    found = []
    for endpoint, method, status in sorted(seen):
        if method in ("HEAD", "OPTIONS"):
            continue
        allowed = documented.get((endpoint, method))
        if allowed is None or status not in allowed:
            listed = sorted(allowed or ())
            found.append(f"{method} {endpoint} answered {status}; documented: {listed}")
    return found


def pytest_configure(config: pytest.Config) -> None:
    request_finished.connect(_record)
    config.stash[_controller_seen] = set()


_controller_seen = pytest.StashKey[set[tuple[str, str, int]]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller: gather what a worker recorded."""
    for endpoint, method, status in node.workeroutput.get(SEEN_KEY, []):
        node.config.stash[_controller_seen].add((endpoint, method, int(status)))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[SEEN_KEY] = sorted(_seen)
        return
    gathered = config.stash[_controller_seen]
    problems = undocumented(_seen | gathered)
    if not problems:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("=", "statuses the OpenAPI document does not list", red=True)
        for line in problems:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
