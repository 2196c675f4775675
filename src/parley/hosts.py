"""PARLEY_ALLOWED_HOSTS: refuse requests whose Host names a server Parley is not.

A WSGI middleware outside everything else, so the page, the API, the video streams and
Socket.IO's own requests are all checked (Flask's TRUSTED_HOSTS would miss Socket.IO,
which answers before Flask routes). Behind PARLEY_TRUSTED_PROXIES the host is the one
the proxies forwarded, as ProxyFix reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.sansio.utils import host_is_trusted

from .errors import error_body
from .headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Probes from an orchestrator and Prometheus's scrapes name the process's address, not the
# site: the probes say only whether the process is up, and /metrics has its own check.
UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class AllowedHosts:
    def __init__(self, app: WSGIApplication, hosts: Iterable[str], trusted_proxies: int) -> None:
        self.app = app
        self.hosts = [host.lower() for host in hosts]
        self.trusted_proxies = trusted_proxies

    def host_of(self, environ: WSGIEnvironment) -> str:
        if self.trusted_proxies:
            forwarded = str(environ.get("HTTP_X_FORWARDED_HOST", "")).split(",")
            values = [value.strip() for value in forwarded if value.strip()]
            if len(values) >= self.trusted_proxies:
                return values[-self.trusted_proxies]
        return str(environ.get("HTTP_HOST", ""))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = self.host_of(environ).lower()
        if environ.get("PATH_INFO") in UNCHECKED_PATHS or host_is_trusted(host, self.hosts):
            return self.app(environ, start_response)
        body = error_body(400, "This server does not answer for that Host.", code="bad_host")
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
            *SECURITY_HEADERS.items(),
        ]
        start_response("400 BAD REQUEST", headers)
        return [body]
