"""Configuration classes, chosen by ``PARLEY_CONFIG`` and overridable from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from limits import parse

from .pictures import MAX_BYTES as AVATAR_MAX_BYTES
from .video.frames import MAX_FRAME_BYTES

DEV_SECRET = "parley-development-secret-not-for-production"


class ConfigError(RuntimeError):
    """The configuration cannot run: the message says what to set."""


class Secret(str):
    """A string that never shows its value in a repr or a log line."""

    def __repr__(self) -> str:
        return "Secret('**********')"


class Config:
    SECRET_KEY: str = DEV_SECRET
    SQLALCHEMY_DATABASE_URI: str | None = None
    # Threading mode serves each request and socket event on its own thread: a burst
    # (hundreds of sockets reconnecting at once) needs more than SQLAlchemy's 5 + 10.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # A database server's connections each process keeps open, and the most it opens
    # beyond them under a burst: N processes may hold N times their sum, which must stay
    # below the server's max_connections (PostgreSQL's default is 100).
    PARLEY_DB_POOL_SIZE = 10
    PARLEY_DB_MAX_OVERFLOW = 40
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MAX_CONTENT_LENGTH = 1024 * 1024
    JSON_SORT_KEYS = False
    PARLEY_HOST = "127.0.0.1"
    PARLEY_PORT = 5000
    # argon2id parameters (RFC 9106's second recommended option); login rehashes on change.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 4
    # A token's last_used_at is written at most this often, so reads do not all write.
    TOKEN_TOUCH_SECONDS = 60
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # The web session cookie, and its token, last this long after the page's last request.
    PARLEY_SESSION_DAYS = 30
    # Rate limits (PARLEY_RATE_LIMITS=off turns every one off: for load tests only).
    PARLEY_RATE_LIMITS = True
    # memory:// keeps each process's own counters; unset, it follows a Redis
    # PARLEY_MESSAGE_QUEUE, so the processes of a cluster share every budget.
    PARLEY_RATE_LIMIT_STORAGE: str | None = None
    # Messages a user may send, over REST and Socket.IO together (Zulip allows 200 API
    # requests a minute per user); and their other socket events, a budget meant only to
    # stop a flood: typing that the typing throttle drops costs nothing.
    PARLEY_SEND_RATE_LIMIT = "200/minute"
    PARLEY_EVENT_RATE_LIMIT = "60/10 seconds"
    PARLEY_LOGIN_RATE_LIMIT = "10/minute"
    PARLEY_REGISTER_RATE_LIMIT = "20/hour"
    # Password checks per account, from any address (see parley.login_throttle): this
    # many go through, then each waits a delay that doubles from the first to the most.
    PARLEY_LOGIN_ACCOUNT_LIMIT = "5/15 minutes"
    PARLEY_LOGIN_DELAY_SECONDS = 60.0
    PARLEY_LOGIN_MAX_DELAY_SECONDS = 900.0
    # On: an administrator's login without two-factor authentication may only enrol.
    PARLEY_REQUIRE_ADMIN_2FA = False
    # Realtime: gevent serves `parley run` (make run) and gunicorn's worker alike;
    # threading (Werkzeug's server) is for stepping through code in a debugger.
    PARLEY_ASYNC_MODE = "gevent"
    PARLEY_MESSAGE_QUEUE: str | None = None
    # How long a change that takes access away waits, at most, for every other live
    # process to apply it before its caller hears back. 0: no wait (still relayed).
    PARLEY_BUS_ACK_SECONDS = 2.0
    PARLEY_CORS_ORIGINS = ""
    PARLEY_PRESENCE_GRACE_SECONDS = 10.0
    # A socket that connects with auth {"presence": "batched"} gets presence changes
    # gathered into one presence:batch event this often.
    PARLEY_PRESENCE_BATCH_SECONDS = 0.25
    # With a Redis message queue, presence is kept there for every process: each renews
    # its sockets every quarter of this many seconds, and a process silent for this long
    # (killed, its machine lost) is taken for dead: its users go offline.
    PARLEY_PRESENCE_PROCESS_TTL = 20.0
    # Keys and channels Parley makes in Redis start with this, so that two clusters (or
    # two test runs) can share one Redis server.
    PARLEY_REDIS_PREFIX = "parley"
    PARLEY_SOCKET_MAX_PAYLOAD = 1024 * 1024
    # How often the server pings each socket, and how long it waits for the answer: a
    # dead transport (a long-poll whose other half failed) is noticed within their sum.
    PARLEY_SOCKET_PING_INTERVAL = 25.0
    PARLEY_SOCKET_PING_TIMEOUT = 20.0
    # Access checks are kept between requests (see store/access_cache); a change made in
    # another process reaches this one within this many seconds. 0 keeps none.
    PARLEY_ACCESS_RECHECK_SECONDS = 5.0
    # How many proxies (Nginx) stand in front: their X-Forwarded-For/-Proto are trusted,
    # so rate limits key on the real client address. 0 trusts none.
    PARLEY_TRUSTED_PROXIES = 0
    # Connection limits, per process (0 is no limit: for load tests only): Socket.IO
    # sockets per user and per client address, Engine.IO sessions in all (gunicorn's
    # worker_connections is sized from it, see production.py; threading mode has a lower
    # default, THREADING_MAX_CONNECTIONS),
    # and seconds a session may wait for its Socket.IO connect with a valid token. HTTP:
    # seconds to send a request's line and headers (on gevent also the keep-alive idle
    # time), and seconds one read or write may wait once they are in (WebSocket excepted:
    # it has its pings).
    PARLEY_MAX_SOCKETS_PER_USER = 20
    PARLEY_MAX_SOCKETS_PER_ADDRESS = 50
    PARLEY_MAX_CONNECTIONS = 1000
    PARLEY_SOCKET_HANDSHAKE_SECONDS = 10.0
    PARLEY_HTTP_HEADER_SECONDS = 5.0
    PARLEY_HTTP_IDLE_SECONDS = 60.0
    # On SIGTERM or SIGINT the server stops taking connections, lets the sends being
    # written commit and be acknowledged, then closes every socket (clients reconnect
    # elsewhere or to the restarted server); it exits within this many seconds.
    PARLEY_SHUTDOWN_SECONDS = 10.0
    # Host names this server answers for, comma-separated (port ignored, ".example.org"
    # takes every subdomain); any other Host gets 400 bad_host. Empty: any host.
    PARLEY_ALLOWED_HOSTS = ""
    # Overload: new messages wait for their commit in a queue of at most this many; a
    # send finding it full, or still waiting this many seconds before its batch began
    # (counted from when it reached the process, on a socket), is refused at once as
    # overloaded (503, Retry-After) and nothing of it is stored. A batch takes
    # milliseconds: a queue this long or this old means the server has fallen behind,
    # and a client is better told to retry than left waiting while the backlog grows.
    PARLEY_SEND_QUEUE_LIMIT = 500
    PARLEY_SEND_QUEUE_SECONDS = 2.0
    # A process whose event loop (or threads) runs this many seconds late refuses new
    # sends as overloaded before doing any work for them: on a starved CPU sends wait
    # before the queue, where its limit and deadline cannot see them. 0 turns it off.
    PARLEY_SEND_LAG_SECONDS = 2.0
    # Group commit: while sends arrive closer together than this, the writer waits this
    # long for more before each batch (a lone send is written at once). 0 never waits.
    # With a message queue, each of N live processes waits N times this long.
    PARLEY_SEND_GATHER_SECONDS = 0.005
    # Live video: a broadcast with no frame for this long ends; frames per second a
    # broadcaster may send; the largest frame accepted.
    PARLEY_VIDEO_IDLE_SECONDS = 10.0
    PARLEY_VIDEO_MAX_FPS = 30
    PARLEY_VIDEO_MAX_FRAME_BYTES = MAX_FRAME_BYTES
    # The largest profile picture upload (PUT /users/me/avatar), above MAX_CONTENT_LENGTH.
    PARLEY_AVATAR_MAX_BYTES = AVATAR_MAX_BYTES
    # "text": the servers' own log lines; "json": one JSON object a line, each with the
    # request id it was written for (see parley.logs).
    PARLEY_LOG_FORMAT = "text"
    # Across processes (with PARLEY_MESSAGE_QUEUE): how long a broadcast outlives its
    # process (SIGKILL) everywhere else.
    PARLEY_VIDEO_RELAY_TTL_SECONDS = 5.0
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "parley-testing-secret"
    # Cheap hashes keep the suite fast; login's rehash path is exercised by tests that
    # switch these back up.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    # Tests that check a limit turn it on for their own app.
    PARLEY_RATE_LIMITS = False
    # The app is driven in the test process, which gevent has not patched.
    PARLEY_ASYNC_MODE = "threading"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Seconds that may be 0 but never less.
NON_NEGATIVE = (
    "PARLEY_SEND_GATHER_SECONDS",
    "PARLEY_DB_MAX_OVERFLOW",
    "PARLEY_ACCESS_RECHECK_SECONDS",
    "PARLEY_BUS_ACK_SECONDS",
    "PARLEY_PRESENCE_BATCH_SECONDS",
    "PARLEY_LOGIN_DELAY_SECONDS",
    "PARLEY_LOGIN_MAX_DELAY_SECONDS",
)

# Environment variables read on top of the chosen class, with their cast.
ENV_OVERRIDES: dict[str, tuple[str, type]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "PARLEY_HOST": ("PARLEY_HOST", str),
    "PARLEY_PORT": ("PARLEY_PORT", int),
    "PARLEY_MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "PARLEY_ARGON2_TIME_COST": ("ARGON2_TIME_COST", int),
    "PARLEY_ARGON2_MEMORY_COST": ("ARGON2_MEMORY_COST", int),
    "PARLEY_ARGON2_PARALLELISM": ("ARGON2_PARALLELISM", int),
    "PARLEY_TOKEN_TOUCH_SECONDS": ("TOKEN_TOUCH_SECONDS", int),
    "PARLEY_SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", bool),
    "PARLEY_SESSION_DAYS": ("PARLEY_SESSION_DAYS", int),
    "PARLEY_RATE_LIMITS": ("PARLEY_RATE_LIMITS", bool),
    "PARLEY_RATE_LIMIT_STORAGE": ("PARLEY_RATE_LIMIT_STORAGE", str),
    "PARLEY_SEND_RATE_LIMIT": ("PARLEY_SEND_RATE_LIMIT", str),
    "PARLEY_EVENT_RATE_LIMIT": ("PARLEY_EVENT_RATE_LIMIT", str),
    "PARLEY_LOGIN_RATE_LIMIT": ("PARLEY_LOGIN_RATE_LIMIT", str),
    "PARLEY_REGISTER_RATE_LIMIT": ("PARLEY_REGISTER_RATE_LIMIT", str),
    "PARLEY_LOGIN_ACCOUNT_LIMIT": ("PARLEY_LOGIN_ACCOUNT_LIMIT", str),
    "PARLEY_LOGIN_DELAY_SECONDS": ("PARLEY_LOGIN_DELAY_SECONDS", float),
    "PARLEY_LOGIN_MAX_DELAY_SECONDS": ("PARLEY_LOGIN_MAX_DELAY_SECONDS", float),
    "PARLEY_REQUIRE_ADMIN_2FA": ("PARLEY_REQUIRE_ADMIN_2FA", bool),
    "PARLEY_ASYNC_MODE": ("PARLEY_ASYNC_MODE", str),
    "PARLEY_MESSAGE_QUEUE": ("PARLEY_MESSAGE_QUEUE", str),
    "PARLEY_BUS_ACK_SECONDS": ("PARLEY_BUS_ACK_SECONDS", float),
    "PARLEY_CORS_ORIGINS": ("PARLEY_CORS_ORIGINS", str),
    "PARLEY_PRESENCE_GRACE_SECONDS": ("PARLEY_PRESENCE_GRACE_SECONDS", float),
    "PARLEY_PRESENCE_BATCH_SECONDS": ("PARLEY_PRESENCE_BATCH_SECONDS", float),
    "PARLEY_PRESENCE_PROCESS_TTL": ("PARLEY_PRESENCE_PROCESS_TTL", float),
    "PARLEY_REDIS_PREFIX": ("PARLEY_REDIS_PREFIX", str),
    "PARLEY_VIDEO_IDLE_SECONDS": ("PARLEY_VIDEO_IDLE_SECONDS", float),
    "PARLEY_VIDEO_MAX_FPS": ("PARLEY_VIDEO_MAX_FPS", int),
    "PARLEY_VIDEO_MAX_FRAME_BYTES": ("PARLEY_VIDEO_MAX_FRAME_BYTES", int),
    "PARLEY_AVATAR_MAX_BYTES": ("PARLEY_AVATAR_MAX_BYTES", int),
    "PARLEY_VIDEO_RELAY_TTL_SECONDS": ("PARLEY_VIDEO_RELAY_TTL_SECONDS", float),
    "PARLEY_SOCKET_MAX_PAYLOAD": ("PARLEY_SOCKET_MAX_PAYLOAD", int),
    "PARLEY_SOCKET_PING_INTERVAL": ("PARLEY_SOCKET_PING_INTERVAL", float),
    "PARLEY_SOCKET_PING_TIMEOUT": ("PARLEY_SOCKET_PING_TIMEOUT", float),
    "PARLEY_ACCESS_RECHECK_SECONDS": ("PARLEY_ACCESS_RECHECK_SECONDS", float),
    "PARLEY_TRUSTED_PROXIES": ("PARLEY_TRUSTED_PROXIES", int),
    "PARLEY_MAX_SOCKETS_PER_USER": ("PARLEY_MAX_SOCKETS_PER_USER", int),
    "PARLEY_MAX_SOCKETS_PER_ADDRESS": ("PARLEY_MAX_SOCKETS_PER_ADDRESS", int),
    "PARLEY_MAX_CONNECTIONS": ("PARLEY_MAX_CONNECTIONS", int),
    "PARLEY_SOCKET_HANDSHAKE_SECONDS": ("PARLEY_SOCKET_HANDSHAKE_SECONDS", float),
    "PARLEY_HTTP_HEADER_SECONDS": ("PARLEY_HTTP_HEADER_SECONDS", float),
    "PARLEY_HTTP_IDLE_SECONDS": ("PARLEY_HTTP_IDLE_SECONDS", float),
    "PARLEY_SHUTDOWN_SECONDS": ("PARLEY_SHUTDOWN_SECONDS", float),
    "PARLEY_ALLOWED_HOSTS": ("PARLEY_ALLOWED_HOSTS", str),
    "PARLEY_SEND_QUEUE_LIMIT": ("PARLEY_SEND_QUEUE_LIMIT", int),
    "PARLEY_SEND_QUEUE_SECONDS": ("PARLEY_SEND_QUEUE_SECONDS", float),
    "PARLEY_SEND_LAG_SECONDS": ("PARLEY_SEND_LAG_SECONDS", float),
    "PARLEY_SEND_GATHER_SECONDS": ("PARLEY_SEND_GATHER_SECONDS", float),
    "PARLEY_LOG_FORMAT": ("PARLEY_LOG_FORMAT", str),
    "PARLEY_DB_POOL_SIZE": ("PARLEY_DB_POOL_SIZE", int),
    "PARLEY_DB_MAX_OVERFLOW": ("PARLEY_DB_MAX_OVERFLOW", int),
}

# Connection limits may be 0 (none); their timeouts must be more than 0.
CONNECTION_LIMITS = (
    "PARLEY_MAX_SOCKETS_PER_USER",
    "PARLEY_MAX_SOCKETS_PER_ADDRESS",
    "PARLEY_MAX_CONNECTIONS",
)
CONNECTION_TIMEOUTS = (
    "PARLEY_SOCKET_HANDSHAKE_SECONDS",
    "PARLEY_HTTP_HEADER_SECONDS",
    "PARLEY_HTTP_IDLE_SECONDS",
    "PARLEY_SHUTDOWN_SECONDS",
)

ASYNC_MODES = ("gevent", "threading")
LOG_FORMATS = ("text", "json")
MESSAGE_QUEUE_SCHEMES = ("redis://", "rediss://", "unix://")
# Threading mode runs three threads a session, and a thousand sessions closing at once
# stalled it for seconds: its default cap is lower.
THREADING_MAX_CONNECTIONS = 250

# Per-user budgets, in the notation of the `limits` library.
BUDGETS = ("PARLEY_SEND_RATE_LIMIT", "PARLEY_EVENT_RATE_LIMIT")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _cast(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    return raw


def normalize_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver Parley installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(
    config_name: str | None,
    instance_path: str,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build the settings for one app: class defaults, then the environment."""
    env = os.environ if environ is None else environ
    name = config_name or env.get("PARLEY_CONFIG") or "development"
    if name not in CONFIGS:
        choices = ", ".join(CONFIGS)
        raise ConfigError(f"PARLEY_CONFIG={name!r} is not one of: {choices}")
    cls = CONFIGS[name]
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings["PARLEY_CONFIG_NAME"] = name
    for env_name, (key, kind) in ENV_OVERRIDES.items():
        if env_name in env:
            settings[key] = _cast(env_name, env[env_name], kind)
    if not 0 < settings["PARLEY_PORT"] < 65536:
        raise ConfigError(
            f"PARLEY_PORT must be a port from 1 to 65535, not {settings['PARLEY_PORT']}"
        )
    if settings["PARLEY_SESSION_DAYS"] < 1:
        raise ConfigError(
            f"PARLEY_SESSION_DAYS must be 1 or more, not {settings['PARLEY_SESSION_DAYS']}"
        )
    for key in (*NON_NEGATIVE, *CONNECTION_LIMITS):
        if not settings[key] >= 0:
            raise ConfigError(f"{key} must be 0 or more, not {settings[key]}")
    for key in CONNECTION_TIMEOUTS:
        if not settings[key] > 0:
            raise ConfigError(f"{key} must be more than 0, not {settings[key]}")
    if settings["PARLEY_SEND_QUEUE_LIMIT"] < 1:
        raise ConfigError(
            f"PARLEY_SEND_QUEUE_LIMIT must be 1 or more, not {settings['PARLEY_SEND_QUEUE_LIMIT']}"
        )
    if settings["PARLEY_SEND_LAG_SECONDS"] < 0:
        raise ConfigError(
            "PARLEY_SEND_LAG_SECONDS must be 0 (off) or more, "
            f"not {settings['PARLEY_SEND_LAG_SECONDS']}"
        )
    if not settings["PARLEY_SEND_QUEUE_SECONDS"] > 0:
        raise ConfigError(
            "PARLEY_SEND_QUEUE_SECONDS must be more than 0, "
            f"not {settings['PARLEY_SEND_QUEUE_SECONDS']}"
        )
    for key in BUDGETS:
        try:
            parse(settings[key])
        except ValueError:
            raise ConfigError(
                f"{key} must be a rate like '200/minute' or '60/10 seconds', not {settings[key]!r}"
            ) from None
    hosts = settings["PARLEY_ALLOWED_HOSTS"]
    if isinstance(hosts, str):
        settings["PARLEY_ALLOWED_HOSTS"] = [h.strip() for h in hosts.split(",") if h.strip()]
    settings["PERMANENT_SESSION_LIFETIME"] = timedelta(days=settings["PARLEY_SESSION_DAYS"])
    if settings["PARLEY_ASYNC_MODE"] not in ASYNC_MODES:
        raise ConfigError(
            f"PARLEY_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, "
            f"not {settings['PARLEY_ASYNC_MODE']!r}"
        )
    if settings["PARLEY_LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(
            f"PARLEY_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
            f"not {settings['PARLEY_LOG_FORMAT']!r}"
        )
    if settings["PARLEY_ASYNC_MODE"] == "threading" and "PARLEY_MAX_CONNECTIONS" not in env:
        settings["PARLEY_MAX_CONNECTIONS"] = min(
            settings["PARLEY_MAX_CONNECTIONS"], THREADING_MAX_CONNECTIONS
        )
    if not settings["PARLEY_RATE_LIMIT_STORAGE"]:
        queue = settings["PARLEY_MESSAGE_QUEUE"] or ""
        if queue.startswith("unix://"):
            queue = "redis+" + queue  # the rate-limit library's name for it
        settings["PARLEY_RATE_LIMIT_STORAGE"] = queue or "memory://"
    if not settings["PARLEY_PRESENCE_PROCESS_TTL"] > 0:
        raise ConfigError(
            "PARLEY_PRESENCE_PROCESS_TTL must be more than 0, "
            f"not {settings['PARLEY_PRESENCE_PROCESS_TTL']}"
        )
    if not settings["PARLEY_REDIS_PREFIX"].strip():
        raise ConfigError("PARLEY_REDIS_PREFIX must not be empty")
    queue = settings["PARLEY_MESSAGE_QUEUE"]
    if queue and not queue.startswith(MESSAGE_QUEUE_SCHEMES):
        raise ConfigError(
            "PARLEY_MESSAGE_QUEUE must be a Redis URL (redis://, rediss:// or unix://), "
            f"not {queue.split('://')[0]!r}: the processes share their events through Redis"
        )
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        db_path = Path(instance_path) / "parley.db"
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    if settings["PARLEY_DB_POOL_SIZE"] < 1:
        raise ConfigError(
            f"PARLEY_DB_POOL_SIZE must be 1 or more, not {settings['PARLEY_DB_POOL_SIZE']}"
        )
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **settings["SQLALCHEMY_ENGINE_OPTIONS"],
        "pool_size": settings["PARLEY_DB_POOL_SIZE"],
        "max_overflow": settings["PARLEY_DB_MAX_OVERFLOW"],
    }
    if name == "production":
        secret = settings["SECRET_KEY"]
        if not secret or secret == DEV_SECRET or len(secret.strip()) < 32:
            raise ConfigError(
                "Production needs a real SECRET_KEY: set the SECRET_KEY environment "
                "variable to a random string of at least 32 characters, for example "
                "the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
    settings["SECRET_KEY"] = Secret(settings["SECRET_KEY"])
    return settings
