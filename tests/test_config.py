"""Configuration: the classes PARLEY_CONFIG picks, environment overrides, the secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import QueuePool

from parley.config import DEV_SECRET, ConfigError, Secret, load_config, normalize_database_url

REAL_SECRET = "k" * 40
PARLEY_SCRIPT = Path(sys.executable).parent / "parley"


def test_development_is_the_default_and_needs_nothing_set(tmp_path: Path) -> None:
    settings = load_config(None, str(tmp_path), {})
    assert settings["PARLEY_CONFIG_NAME"] == "development"
    assert settings["DEBUG"] is True
    assert settings["TESTING"] is False
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'parley.db'}"
    assert settings["SECRET_KEY"] == DEV_SECRET
    assert settings["PARLEY_HOST"] == "127.0.0.1"
    assert settings["PARLEY_PORT"] == 5000


def test_parley_config_from_the_environment_picks_the_class(tmp_path: Path) -> None:
    settings = load_config(None, str(tmp_path), {"PARLEY_CONFIG": "testing"})
    assert settings["PARLEY_CONFIG_NAME"] == "testing"
    assert settings["TESTING"] is True
    assert settings["DEBUG"] is False


def test_an_explicit_config_name_wins_over_parley_config(tmp_path: Path) -> None:
    settings = load_config("testing", str(tmp_path), {"PARLEY_CONFIG": "production"})
    assert settings["PARLEY_CONFIG_NAME"] == "testing"


def test_an_empty_parley_config_means_development(tmp_path: Path) -> None:
    assert load_config(None, str(tmp_path), {"PARLEY_CONFIG": ""})["DEBUG"] is True


def test_the_process_environment_is_read_when_none_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_CONFIG", "testing")
    monkeypatch.setenv("PARLEY_PORT", "6001")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_config(None, str(tmp_path))
    assert settings["PARLEY_CONFIG_NAME"] == "testing"
    assert settings["PARLEY_PORT"] == 6001


@pytest.mark.parametrize("name", ["staging", "Production", "prod", "dev "])
def test_an_unknown_parley_config_is_a_config_error_naming_the_choices(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, str(tmp_path), {"PARLEY_CONFIG": name})
    message = str(caught.value)
    assert repr(name) in message
    for choice in ("development", "testing", "production"):
        assert choice in message


def test_environment_overrides_apply_with_their_casts(tmp_path: Path) -> None:
    settings = load_config(
        "development",
        str(tmp_path),
        {
            "DATABASE_URL": "sqlite:////srv/parley/chat.db",
            "SECRET_KEY": "from-the-environment",
            "PARLEY_HOST": "0.0.0.0",
            "PARLEY_PORT": "8080",
            "PARLEY_MAX_CONTENT_LENGTH": "2048",
            "PARLEY_TOKEN_TOUCH_SECONDS": "5",
            "PARLEY_SESSION_COOKIE_SECURE": "yes",
        },
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/parley/chat.db"
    assert settings["SECRET_KEY"] == "from-the-environment"
    assert isinstance(settings["SECRET_KEY"], Secret)
    assert settings["PARLEY_HOST"] == "0.0.0.0"
    assert settings["PARLEY_PORT"] == 8080
    assert settings["MAX_CONTENT_LENGTH"] == 2048
    assert settings["TOKEN_TOUCH_SECONDS"] == 5
    assert settings["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False), ("off", False)],
)
def test_boolean_overrides_accept_the_usual_spellings(
    tmp_path: Path, raw: str, expected: bool
) -> None:
    settings = load_config(None, str(tmp_path), {"PARLEY_SESSION_COOKIE_SECURE": raw})
    assert settings["SESSION_COOKIE_SECURE"] is expected


def test_a_boolean_override_that_is_not_one_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"PARLEY_SESSION_COOKIE_SECURE .*'maybe'"):
        load_config(None, str(tmp_path), {"PARLEY_SESSION_COOKIE_SECURE": "maybe"})


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("PARLEY_PORT", "eighty"),
        ("PARLEY_PORT", "80.5"),
        ("PARLEY_PORT", ""),
        ("PARLEY_ARGON2_TIME_COST", "three"),
        ("PARLEY_MAX_CONTENT_LENGTH", "1MB"),
    ],
)
def test_a_bad_integer_override_is_a_config_error_naming_the_variable(
    tmp_path: Path, variable: str, raw: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, str(tmp_path), {variable: raw})
    message = str(caught.value)
    assert variable in message
    assert repr(raw) in message
    assert "whole number" in message
    # Not a chained ValueError traceback: the message is the whole story.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/parley", "postgresql+psycopg://u:p@db:5432/parley"),
        ("postgresql://u@db/parley", "postgresql+psycopg://u@db/parley"),
        ("postgresql+psycopg://u@db/parley", "postgresql+psycopg://u@db/parley"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:////abs/path.db", "sqlite:////abs/path.db"),
    ],
)
def test_database_url_is_pointed_at_psycopg_3(tmp_path: Path, url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected
    settings = load_config(None, str(tmp_path), {"DATABASE_URL": url})
    assert settings["SQLALCHEMY_DATABASE_URI"] == expected


def test_an_empty_database_url_falls_back_to_the_instance_sqlite_file(tmp_path: Path) -> None:
    settings = load_config(None, str(tmp_path), {"DATABASE_URL": ""})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'parley.db'}"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SECRET_KEY": ""},
        {"SECRET_KEY": DEV_SECRET},
        {"SECRET_KEY": "too-short-a-secret"},
        {"SECRET_KEY": "x" * 31},
    ],
)
def test_production_without_a_real_secret_key_is_a_config_error(
    tmp_path: Path, environ: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("production", str(tmp_path), environ)
    message = str(caught.value)
    assert "SECRET_KEY" in message
    assert "32 characters" in message
    if environ.get("SECRET_KEY"):
        assert environ["SECRET_KEY"] not in message


def test_production_with_a_real_secret_key_starts_with_secure_cookies(tmp_path: Path) -> None:
    settings = load_config(
        None, str(tmp_path), {"PARLEY_CONFIG": "production", "SECRET_KEY": REAL_SECRET}
    )
    assert settings["PARLEY_CONFIG_NAME"] == "production"
    assert settings["SECRET_KEY"] == REAL_SECRET
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["DEBUG"] is False


def test_the_web_session_lasts_30_days_unless_parley_session_days_says(tmp_path: Path) -> None:
    assert load_config(None, str(tmp_path), {})["PERMANENT_SESSION_LIFETIME"] == timedelta(days=30)
    settings = load_config(None, str(tmp_path), {"PARLEY_SESSION_DAYS": "7"})
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "-1", "a week"])
def test_a_session_lifetime_under_a_day_is_a_config_error(tmp_path: Path, days: str) -> None:
    with pytest.raises(ConfigError, match="PARLEY_SESSION_DAYS"):
        load_config(None, str(tmp_path), {"PARLEY_SESSION_DAYS": days})


@pytest.mark.parametrize(
    "url", ["amqp://guest@localhost//", "kafka://localhost:9092", "zmq+tcp://x"]
)
def test_a_message_queue_that_is_not_redis_is_a_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="PARLEY_MESSAGE_QUEUE must be a Redis URL") as caught:
        load_config(None, str(tmp_path), {"PARLEY_MESSAGE_QUEUE": url})
    assert "guest" not in str(caught.value)


def test_a_redis_message_queue_and_its_prefix_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_config(
        None,
        str(tmp_path),
        {
            "PARLEY_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
            "PARLEY_REDIS_PREFIX": "team-a",
            "PARLEY_BUS_ACK_SECONDS": "0.5",
        },
    )
    assert settings["PARLEY_MESSAGE_QUEUE"] == "redis://127.0.0.1:6379/0"
    assert settings["PARLEY_REDIS_PREFIX"] == "team-a"
    assert settings["PARLEY_BUS_ACK_SECONDS"] == 0.5


def test_a_negative_bus_wait_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PARLEY_BUS_ACK_SECONDS must be 0 or more"):
        load_config(None, str(tmp_path), {"PARLEY_BUS_ACK_SECONDS": "-1"})


def test_secret_repr_hides_its_value(tmp_path: Path) -> None:
    settings = load_config("production", str(tmp_path), {"SECRET_KEY": REAL_SECRET})
    secret = settings["SECRET_KEY"]
    assert isinstance(secret, Secret)
    assert REAL_SECRET not in repr(secret)
    assert REAL_SECRET not in repr(settings)
    assert REAL_SECRET not in f"{secret!r}"
    # It is still the string itself wherever the value is used.
    assert str(secret) == REAL_SECRET
    assert secret == REAL_SECRET


# --- the real command -------------------------------------------------------------------


def run_parley(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "PARLEY_CONFIG"}
        and not key.startswith("FLASK_")
    }
    environ.update(PARLEY_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run(
        [str(PARLEY_SCRIPT), *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_parley_command_refuses_production_without_a_secret_key(tmp_path: Path) -> None:
    result = run_parley(tmp_path, "routes", PARLEY_CONFIG="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "32 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_parley_command_reports_a_bad_port_without_a_traceback(tmp_path: Path) -> None:
    result = run_parley(tmp_path, "routes", PARLEY_PORT="eighty")
    assert result.returncode != 0
    assert "PARLEY_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_parley_command_runs_in_production_with_a_real_secret_key(tmp_path: Path) -> None:
    result = run_parley(tmp_path, "routes", PARLEY_CONFIG="production", SECRET_KEY=REAL_SECRET)
    assert result.returncode == 0, result.stderr
    assert "/api/v1/auth/login" in result.stdout
    assert REAL_SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_a_port_out_of_range_is_a_config_error(tmp_path: Path, port: str) -> None:
    with pytest.raises(ConfigError, match="PARLEY_PORT"):
        load_config("development", str(tmp_path), {"PARLEY_PORT": port})


def test_production_refuses_a_secret_key_of_blanks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production", str(tmp_path), {"SECRET_KEY": " " * 40})


def test_an_empty_boolean_is_an_error_not_a_silent_off(tmp_path: Path) -> None:
    """PARLEY_RATE_LIMITS= (empty) must not turn the limits off by accident."""
    with pytest.raises(ConfigError, match="PARLEY_RATE_LIMITS"):
        load_config("development", str(tmp_path), {"PARLEY_RATE_LIMITS": ""})


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_database_gets_no_pool_sizes_and_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    from parley import create_app
    from parley.extensions import db

    monkeypatch.setenv("PARLEY_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        assert db.session.execute(db.text("SELECT 1")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_a_sqlite_file_keeps_a_pool_of_fifty_connections_and_does_not_ping_them(
    tmp_path: Path,
) -> None:
    from parley import SQLITE_POOL_SIZE, create_app
    from parley.extensions import db

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    with app.app_context():
        assert isinstance(db.engine.pool, QueuePool)
        assert db.engine.pool.size() == SQLITE_POOL_SIZE
        assert not db.engine.pool._pre_ping
        db.engine.dispose()


def test_gevent_serves_by_default_and_tests_drive_the_app_in_threading_mode(tmp_path: Path) -> None:
    assert load_config("development", str(tmp_path), {})["PARLEY_ASYNC_MODE"] == "gevent"
    production = load_config("production", str(tmp_path), {"SECRET_KEY": REAL_SECRET})
    assert production["PARLEY_ASYNC_MODE"] == "gevent"
    assert load_config("testing", str(tmp_path), {})["PARLEY_ASYNC_MODE"] == "threading"
    chosen = load_config(None, str(tmp_path), {"PARLEY_ASYNC_MODE": "threading"})
    assert chosen["PARLEY_ASYNC_MODE"] == "threading"


def test_the_shutdown_time_must_be_more_than_zero(tmp_path: Path) -> None:
    assert load_config(None, str(tmp_path), {})["PARLEY_SHUTDOWN_SECONDS"] == 10.0
    with pytest.raises(ConfigError, match="PARLEY_SHUTDOWN_SECONDS"):
        load_config(None, str(tmp_path), {"PARLEY_SHUTDOWN_SECONDS": "0"})


def test_parley_run_reports_an_async_mode_it_does_not_serve(tmp_path: Path) -> None:
    result = run_parley(tmp_path, "run", PARLEY_ASYNC_MODE="eventlet")
    assert result.returncode == 2
    assert "PARLEY_ASYNC_MODE must be one of gevent, threading, not 'eventlet'" in result.stderr
    assert "Traceback" not in result.stderr


def test_rate_limit_counters_follow_a_redis_message_queue_unless_set(tmp_path: Path) -> None:
    queue = "redis://127.0.0.1:6379/3"
    assert load_config(None, str(tmp_path), {})["PARLEY_RATE_LIMIT_STORAGE"] == "memory://"
    shared = load_config(None, str(tmp_path), {"PARLEY_MESSAGE_QUEUE": queue})
    assert shared["PARLEY_RATE_LIMIT_STORAGE"] == queue
    own = load_config(
        None,
        str(tmp_path),
        {"PARLEY_MESSAGE_QUEUE": queue, "PARLEY_RATE_LIMIT_STORAGE": "memory://"},
    )
    assert own["PARLEY_RATE_LIMIT_STORAGE"] == "memory://"
    # Redis on a Unix socket, as the rate-limit library names it.
    local = load_config(None, str(tmp_path), {"PARLEY_MESSAGE_QUEUE": "unix:///run/redis.sock"})
    assert local["PARLEY_RATE_LIMIT_STORAGE"] == "redis+unix:///run/redis.sock"


@pytest.mark.parametrize("ttl", ["0", "-5"])
def test_the_presence_process_ttl_must_be_more_than_zero(tmp_path: Path, ttl: str) -> None:
    with pytest.raises(ConfigError, match="PARLEY_PRESENCE_PROCESS_TTL must be more than 0"):
        load_config(None, str(tmp_path), {"PARLEY_PRESENCE_PROCESS_TTL": ttl})


def test_the_redis_prefix_may_not_be_empty(tmp_path: Path) -> None:
    assert load_config(None, str(tmp_path), {})["PARLEY_REDIS_PREFIX"] == "parley"
    with pytest.raises(ConfigError, match="PARLEY_REDIS_PREFIX"):
        load_config(None, str(tmp_path), {"PARLEY_REDIS_PREFIX": " "})


def test_a_database_servers_pool_is_sized_from_the_environment(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    default = load_config(None, str(tmp_path), {})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (default["pool_size"], default["max_overflow"]) == (10, 40)
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
        "PARLEY_DB_POOL_SIZE": "4",
        "PARLEY_DB_MAX_OVERFLOW": "6",
    }
    settings = load_config(None, str(tmp_path), env)
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_pre_ping": True, "pool_size": 4, "max_overflow": 6}
    # The options as given build a pool of that size (no connection is opened).
    engine = create_engine(settings["SQLALCHEMY_DATABASE_URI"], **options)
    assert isinstance(engine.pool, QueuePool)
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 6)


@pytest.mark.parametrize(
    ("name", "value"), [("PARLEY_DB_POOL_SIZE", "0"), ("PARLEY_DB_MAX_OVERFLOW", "-1")]
)
def test_a_pool_size_under_one_or_a_negative_overflow_is_a_config_error(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config(None, str(tmp_path), {name: value})
