"""The app factory: configuration, extensions, blueprints, the event bus and the
middlewares around them."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import database  # noqa: F401  (installs the SQLite connection settings)
from .config import load_config
from .connections import OpenConnections
from .converters import IdConverter
from .errors import register_error_handlers
from .events import EventBus
from .extensions import db, migrate
from .headers import init_security_headers
from .hosts import AllowedHosts
from .login_throttle import init_login_throttle
from .logs import configure_logging, json_logging
from .metrics import init_metrics
from .ratelimits import init_rate_limits
from .realtime import init_realtime
from .request_ids import RequestIds
from .store.access_cache import AccessCache
from .store.message_writer import MessageWriter
from .tcp import NoDelay
from .timeouts import IdleTimeouts
from .video.broadcasts import Broadcasts
from .video.relay import relay_from_config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_POOL_SIZE = 50
IN_MEMORY_SQLITE = ("sqlite://", "sqlite:///:memory:")


def create_app(config_name: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and the event bus."""
    # The instance folder (the SQLite file, uploads) sits where the server is started,
    # not inside the installed package.
    instance_path = os.environ.get("PARLEY_INSTANCE_PATH") or os.path.abspath("instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(load_config(config_name, app.instance_path))
    if overrides:
        app.config.from_mapping(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # A database file has no server that could drop the connection: pinging it on
        # every checkout would only cost time. Its connections are cheap to keep, and
        # opening one costs its pragmas: keep as many as threading mode uses at once
        # rather than opening and closing overflow ones under load.
        options = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
            "pool_size": SQLITE_POOL_SIZE,
        }
        if app.config["SQLALCHEMY_DATABASE_URI"] in IN_MEMORY_SQLITE:
            # An in-memory database lives in its one connection: no pool to size.
            options = {k: v for k, v in options.items() if k not in ("pool_size", "max_overflow")}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PARLEY_TRUSTED_PROXIES"] > 0:
        hops = app.config["PARLEY_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["id"] = IdConverter

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    # The admin console's uptime counts from here (time.time(), seconds).
    app.extensions["parley.started_at"] = time.time()
    app.extensions["parley.bus"] = EventBus()
    app.extensions["parley.video"] = Broadcasts(relay_from_config(app.config))
    app.extensions["parley.message_writer"] = MessageWriter.from_config(app.config)
    app.extensions["parley.access_cache"] = AccessCache(app.config["PARLEY_ACCESS_RECHECK_SECONDS"])

    register_error_handlers(app)
    init_security_headers(app)
    _register_blueprints(app)
    init_rate_limits(app)
    init_login_throttle(app)
    init_realtime(app)
    init_metrics(app)
    configure_logging(app)
    # Outermost, so Socket.IO's own requests (handled by its middleware) get them too.
    idle_seconds = app.config["PARLEY_HTTP_IDLE_SECONDS"]
    connections = OpenConnections(NoDelay(IdleTimeouts(app.wsgi_app, idle_seconds)))
    app.extensions["parley.connections"] = connections
    app.wsgi_app = connections  # type: ignore[method-assign]
    if app.config["PARLEY_ALLOWED_HOSTS"]:
        app.wsgi_app = AllowedHosts(  # type: ignore[method-assign]
            app.wsgi_app, app.config["PARLEY_ALLOWED_HOSTS"], app.config["PARLEY_TRUSTED_PROXIES"]
        )
    # Outside everything, so every answer (a refused host too) carries its request id.
    app.wsgi_app = RequestIds(app.wsgi_app, log_access=json_logging(app))  # type: ignore[method-assign]

    from .identity import forget_request_identity

    app.teardown_appcontext(forget_request_identity)

    @app.shell_context_processor
    def _shell_context() -> dict[str, Any]:
        from . import models

        return {"db": db, **{name: getattr(models, name) for name in models.__all__}}

    return app


def _register_blueprints(app: Flask) -> None:
    from . import api, docs, health, metrics, web
    from .video import routes as video_routes

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(video_routes.bp)
