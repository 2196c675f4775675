"""The gunicorn settings Parley ships, sized from its own."""

from __future__ import annotations

import importlib
import resource
from types import ModuleType, SimpleNamespace

import pytest


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("PARLEY_CONFIG", "PARLEY_MAX_CONNECTIONS", "PARLEY_HTTP_HEADER_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARLEY_CONFIG", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import parley.gunicorn_conf

    return importlib.reload(parley.gunicorn_conf)


def test_one_gevent_worker_serving_parley(monkeypatch):
    conf = settings(monkeypatch)
    assert (conf.wsgi_app, conf.worker_class, conf.workers) == ("parley.wsgi:app", "gevent", 1)


def test_worker_connections_leave_room_for_http_beside_the_socket_cap(monkeypatch):
    assert settings(monkeypatch).worker_connections == 1000 + 1000
    assert settings(monkeypatch, PARLEY_MAX_CONNECTIONS="5000").worker_connections == 6000


def test_the_request_head_has_the_header_timeout(monkeypatch):
    assert settings(monkeypatch).keepalive == 5
    assert settings(monkeypatch, PARLEY_HTTP_HEADER_SECONDS="2.5").keepalive == 3


def test_the_open_file_limit_is_raised_to_what_the_connections_need(monkeypatch):
    conf = settings(monkeypatch)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    warnings: list[str] = []
    server = SimpleNamespace(
        cfg=SimpleNamespace(worker_connections=64),
        log=SimpleNamespace(warning=lambda *args: warnings.append(args[0] % args[1:])),
    )
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
        conf.on_starting(server)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 64 + conf.SPARE_FILES
        assert not warnings
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
