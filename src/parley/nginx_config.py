"""Parley's Nginx configuration, rendered from the one template in ``parley/nginx/``:
a site for a production Nginx (``parley deploy-config nginx``) or the whole
configuration of the Nginx that ``parley cluster`` runs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE = "parley.conf.j2"
STATIC_ROOT = Path(__file__).parent / "static"
# Where `parley cluster` keeps its Nginx's files, inside the instance folder.
CLUSTER_NGINX_DIR = "nginx"
CLUSTER_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
# Seconds beside a Socket.IO connection's longest silence (a ping interval and its
# timeout) before Nginx gives up on the upstream.
SOCKET_READ_MARGIN = 15


@dataclass(frozen=True)
class Site:
    """What the template needs to know of one deployment."""

    upstreams: Sequence[str]
    server_name: str = "_"
    listen: str = "80"
    tls_cert: str | None = None
    tls_key: str | None = None
    static_root: Path = STATIC_ROOT
    access_log: str = "/var/log/nginx/parley.access.log"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


@dataclass(frozen=True)
class Standalone:
    """The parts of a whole Nginx configuration: its own prefix for pid, logs and temp
    files, and the user its workers run as (None: Nginx's own choice)."""

    prefix: Path
    shutdown_seconds: int
    user: str | None = None


def body_limit(config: Mapping[str, Any]) -> int:
    """The largest body a client may send: a REST request, a profile picture or a
    long-polling payload."""
    return max(
        int(config["MAX_CONTENT_LENGTH"]),
        int(config["PARLEY_AVATAR_MAX_BYTES"]),
        int(config["PARLEY_SOCKET_MAX_PAYLOAD"]),
    )


def socket_read_timeout(config: Mapping[str, Any]) -> int:
    silence = float(config["PARLEY_SOCKET_PING_INTERVAL"]) + float(
        config["PARLEY_SOCKET_PING_TIMEOUT"]
    )
    return math.ceil(silence) + SOCKET_READ_MARGIN


def upstream_idle_seconds(config: Mapping[str, Any]) -> int:
    """How long Nginx keeps an idle connection to a process: under the process's own
    idle limit for a request head."""
    return max(1, math.ceil(float(config["PARLEY_HTTP_HEADER_SECONDS"])) - 1)


def upstream_addresses(first_port: int, processes: int, host: str = "127.0.0.1") -> list[str]:
    return [f"{host}:{first_port + i}" for i in range(processes)]


def render(
    site: Site,
    config: Mapping[str, Any],
    command: str,
    standalone: Standalone | None = None,
) -> str:
    """The configuration text; `command` is what rendered it, named in its first line."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "nginx"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    values: dict[str, Any] = {
        "command": command,
        "standalone": standalone is not None,
        "servers": list(site.upstreams),
        "server_name": site.server_name,
        "listen": site.listen,
        "tls": site.tls,
        "tls_cert": site.tls_cert,
        "tls_key": site.tls_key,
        "static_root": str(site.static_root).rstrip("/"),
        "access_log": site.access_log,
        "body_limit": body_limit(config),
        "socket_read_timeout": socket_read_timeout(config),
        "upstream_idle_seconds": upstream_idle_seconds(config),
    }
    if standalone is not None:
        values.update(
            prefix=str(standalone.prefix),
            shutdown_seconds=standalone.shutdown_seconds,
            user=standalone.user,
        )
    return environment.get_template(TEMPLATE).render(values)
