"""The ``parley`` command: run the server and administer it."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command, with_appcontext

from .config import ASYNC_MODES, ConfigError, load_config

if TYPE_CHECKING:
    from .models import User


def _load_app() -> Flask:
    from .app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"parley: {exc}", err=True)
        sys.exit(2)


cli = FlaskGroup(
    name="parley",
    help="Parley, a self-hosted team chat server.",
    create_app=_load_app,
    add_default_commands=False,
    set_debug_flag=False,
    load_dotenv=False,
)
cli.add_command(shell_command)
cli.add_command(routes_command)


@cli.command("run", with_appcontext=False)
@click.option("--host", default=None, help="Address to listen on (default PARLEY_HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (default PARLEY_PORT).")
@click.option(
    "--async-mode",
    type=click.Choice(ASYNC_MODES),
    default=None,
    help="gevent (the default, as in production) or threading, to step through code in "
    "a debugger (default PARLEY_ASYNC_MODE).",
)
@click.option("--debug/--no-debug", default=False, help="Show tracebacks in the log.")
def run_command(host: str | None, port: int | None, async_mode: str | None, debug: bool) -> None:
    """Serve Parley: HTTP, WebSocket and long-polling on one port."""
    from .extensions import socketio
    from .memory import tune_garbage_collector
    from .realtime.bus_relay import start_listening
    from .server import is_patched, relaunch_patched, serve_gevent, serve_threading

    if async_mode is not None:
        # Read by the app's config, here and in a relaunched process alike.
        os.environ["PARLEY_ASYNC_MODE"] = async_mode
    if _configured_mode() == "gevent" and not is_patched():
        relaunch_patched()  # before building an app that the new process builds again
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    mode = app.config["PARLEY_ASYNC_MODE"]
    if mode == "gevent" and not is_patched():
        relaunch_patched()
    host = host or app.config["PARLEY_HOST"]
    port = port or app.config["PARLEY_PORT"]
    app.debug = debug
    serving = f"Parley is serving on http://{host}:{port}/ ({mode} mode; Ctrl+C stops it)"
    if app.config["PARLEY_LOG_FORMAT"] == "json":
        app.logger.info(serving)  # the log is JSON lines only
    else:
        click.echo(serving)
    tune_garbage_collector()
    start_listening(socketio.server)
    if mode == "gevent":
        serve_gevent(app, host, port)
    else:
        serve_threading(app, host, port)


def _configured_mode() -> str | None:
    """The async mode the app will have; None if the configuration is wrong (loading
    the app then says how)."""
    try:
        return str(load_config(None, os.path.abspath("instance"))["PARLEY_ASYNC_MODE"])
    except ConfigError:
        return None


@cli.command("serve", context_settings={"ignore_unknown_options": True})
@click.option(
    "--bind",
    default=None,
    help="Address and port to listen on (default PARLEY_HOST:PARLEY_PORT).",
)
@click.argument("gunicorn_options", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def serve_command(bind: str | None, gunicorn_options: tuple[str, ...]) -> None:
    """Serve Parley in production: gunicorn's gevent worker, its connections and timeouts
    sized from Parley's settings. Other options are passed to gunicorn and win."""
    from .production import SPARE_FILES, gunicorn_command, raise_open_file_limit, worker_connections

    config = current_app.config
    bind = bind or f"{config['PARLEY_HOST']}:{config['PARLEY_PORT']}"
    needed = worker_connections(config) + SPARE_FILES
    if raise_open_file_limit(needed) < needed:
        click.echo(
            f"parley: the open-file limit (ulimit -n) is under the {needed} that "
            f"PARLEY_MAX_CONNECTIONS={config['PARLEY_MAX_CONNECTIONS']} needs: raise it "
            "(systemd: LimitNOFILE=) or lower PARLEY_MAX_CONNECTIONS.",
            err=True,
        )
    command = gunicorn_command(config, bind, gunicorn_options)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


@cli.command("cluster", with_appcontext=False)
@click.option(
    "--processes",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="How many server processes (gunicorn, one gevent worker each).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65534),
    default=8080,
    show_default=True,
    help="Nginx's port; the processes take the ports after it.",
)
def cluster_command(processes: int, port: int) -> None:
    """Serve Parley as a deployment does, on this machine: migrate the database, start
    PROCESSES servers on 127.0.0.1 ports PORT+1... and Nginx on PORT in front of them,
    until SIGTERM or Ctrl+C. Needs DATABASE_URL (PostgreSQL) and PARLEY_MESSAGE_QUEUE
    (Redis)."""
    from .cluster import run_cluster

    sys.exit(run_cluster(processes, port))


@cli.group("deploy-config")
def deploy_config_group() -> None:
    """Print configuration files for a deployment (docs/deploy.md)."""


@deploy_config_group.command("nginx", with_appcontext=False)
@click.option("--server-name", required=True, help="The site's host name (chat.example.org).")
@click.option("--processes", type=click.IntRange(1, 256), default=2, show_default=True)
@click.option(
    "--first-port",
    type=click.IntRange(1, 65535),
    default=8001,
    show_default=True,
    help="The first process's port on 127.0.0.1 (the parley@PORT units).",
)
@click.option(
    "--static-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The page's files (default: the installed package's static folder).",
)
@click.option("--tls-cert", default="/etc/ssl/certs/parley.crt", show_default=True)
@click.option("--tls-key", default="/etc/ssl/private/parley.key", show_default=True)
@click.option("--access-log", default="/var/log/nginx/parley.access.log", show_default=True)
def deploy_config_nginx_command(
    server_name: str,
    processes: int,
    first_port: int,
    static_root: Path | None,
    tls_cert: str,
    tls_key: str,
    access_log: str,
) -> None:
    """The Nginx site in front of the processes: sticky upstream, WebSocket, unbuffered
    MJPEG, static files, TLS. Body limits and timeouts come from this environment's
    settings, so run it with the servers' environment."""
    from .nginx_config import STATIC_ROOT, Site, render, upstream_addresses

    try:
        config = load_config(None, os.path.abspath("instance"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    root = (static_root or STATIC_ROOT).absolute()
    site = Site(
        upstreams=upstream_addresses(first_port, processes),
        server_name=server_name,
        tls_cert=tls_cert,
        tls_key=tls_key,
        static_root=root,
        access_log=access_log,
    )
    # The whole command, defaults spelled out, so that the file says how to make it again.
    options = {
        "--server-name": server_name,
        "--processes": str(processes),
        "--first-port": str(first_port),
        "--static-root": str(root),
        "--tls-cert": tls_cert,
        "--tls-key": tls_key,
        "--access-log": access_log,
    }
    command = shlex.join(
        ["parley", "deploy-config", "nginx", *(part for item in options.items() for part in item)]
    )
    click.echo(render(site, config, command), nl=False)


@cli.command("create-admin")
@click.option("--username", prompt=True, help="The administrator's username.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Their password (prompted, hidden, when left out).",
)
@click.option("--display-name", default=None, help="Shown instead of the username.")
@with_appcontext
def create_admin_command(username: str, password: str, display_name: str | None) -> None:
    """Create an administrator, or make an existing user one."""
    from pydantic import ValidationError

    from .actions.accounts import create_admin
    from .errors import ApiError
    from .schemas.auth import RegisterIn

    try:
        checked = RegisterIn(username=username, password=password, display_name=display_name)
    except ValidationError as exc:
        messages = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise click.UsageError(messages) from None
    try:
        user, created = create_admin(checked.username, checked.password, checked.display_name)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    if created:
        click.echo(f"Created {user.username} (id {user.id}) as Administrator.")
    else:
        click.echo(
            f"Promoted existing user {user.username} (id {user.id}) to Administrator; "
            "their password and display name are unchanged."
        )


@cli.command("reset-2fa")
@click.argument("username")
@with_appcontext
def reset_two_factor_command(username: str) -> None:
    """Turn off a user's two-factor authentication (a lost phone and lost recovery codes)
    and end their logins; they log in with the password alone and can enrol again."""
    from .actions.accounts import find_user
    from .actions.two_factor import reset

    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    ended = reset(user)
    click.echo(f"Two-factor authentication is off for {user.username}; {ended} logins ended.")


@cli.group("roles")
def roles_group() -> None:
    """Manage the built-in roles."""


@roles_group.command("sync")
@with_appcontext
def roles_sync_command() -> None:
    """Create the built-in roles or bring their permissions up to date."""
    from .actions.accounts import sync_roles

    for role in sync_roles():
        names = ", ".join(role.permission_names())
        click.echo(f"{role.name}: {names}{' (default)' if role.default else ''}")


@cli.command("seed-demo")
@click.option(
    "--password", default="parley-demo", show_default=True, help="Password for the demo users."
)
@with_appcontext
def seed_demo_command(password: str) -> None:
    """Add demo users, rooms and messages to try Parley with."""
    from .demo import seed_demo
    from .errors import ApiError

    try:
        for line in seed_demo(password):
            click.echo(line)
    except ApiError as exc:
        raise click.ClickException(f"seed-demo stopped: {exc.message}") from None


class SourceProblem(click.ClickException):
    """A --source that cannot be opened or read; exits 2, like a bad argument."""

    exit_code = 2


@cli.command("stream", with_appcontext=False)
@click.option("--room", "room_name", required=True, help="The room to go live in, by name.")
@click.option(
    "--source",
    "source_spec",
    required=True,
    metavar="test|DIR|FILE.mjpg|camera:N",
    help="A test pattern, a folder of JPEGs, an MJPEG file, or an OpenCV camera.",
)
@click.option(
    "--fps", type=click.IntRange(1, 30), default=15, show_default=True, help="Frames a second."
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many seconds (default: at Ctrl+C).",
)
@click.option(
    "--server", default=None, help="The server's URL (default: PARLEY_HOST and PARLEY_PORT)."
)
@click.option(
    "--token",
    envvar="PARLEY_TOKEN",
    default=None,
    help="An API token (or PARLEY_TOKEN); without one, a temporary token is made in "
    "this install's database.",
)
@click.option(
    "--user",
    "username",
    default=None,
    help="Who streams when there is no token (default: the first active administrator).",
)
def stream_command(
    room_name: str,
    source_spec: str,
    fps: int,
    duration: float | None,
    server: str | None,
    token: str | None,
    username: str | None,
) -> None:
    """Broadcast live video into a room until --duration ends or Ctrl+C."""
    from parley_stream import missing_libraries, not_installed_message

    if missing := missing_libraries():
        raise click.ClickException(not_installed_message(missing))
    from parley_stream.sources import FolderSource, SourceError, open_source
    from parley_stream.streamer import StreamError, stream

    if token and username:
        raise click.UsageError("--user chooses who a temporary token is for; not with --token.")
    try:
        source = open_source(source_spec, fps)
    except SourceError as exc:
        raise SourceProblem(str(exc)) from None
    if isinstance(source, FolderSource):
        for skipped in source.skipped:
            click.echo(f"Skipping {skipped}", err=True)
    try:
        app = None
        if server is None or token is None:
            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        if server is None:
            assert app is not None
            server = _local_server_url(app.config["PARLEY_HOST"], app.config["PARLEY_PORT"])
        with _stopped_by_sigterm(), _api_token(app, token, username) as raw_token:
            stream(server, raw_token, room_name, source, fps, duration=duration, log=click.echo)
    except SourceError as exc:
        raise SourceProblem(str(exc)) from None
    except StreamError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        source.close()


def _local_server_url(host: str, port: int) -> str:
    # A server listening on every address is reached on loopback.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM ends the stream like Ctrl+C: the broadcast stops, a temporary token goes."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _api_token(app: Flask | None, token: str | None, username: str | None) -> Iterator[str]:
    """The given token, or one made for the stream in the database and revoked after it."""
    if token:
        yield token
        return
    assert app is not None
    from .actions.tokens import create_token, revoke_token
    from .errors import ApiError

    with app.app_context():
        user = _streaming_user(username)
        try:
            made, raw = create_token(user, "parley stream (temporary)")
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
        user_id, token_id = user.id, made.id
        click.echo(f"Streaming as {user.username} with a temporary token.")
    try:
        yield raw
    finally:
        from .extensions import db
        from .models import User

        with app.app_context(), suppress(ApiError):  # already revoked by hand
            owner = db.session.get(User, user_id)
            if owner is not None and owner.active:
                revoke_token(owner, token_id)


def _streaming_user(username: str | None) -> User:
    import sqlalchemy as sa

    from .actions.accounts import find_user
    from .extensions import db
    from .models import Permission, Role, User

    if username is not None:
        user = find_user(username)
        if user is None or not user.active:
            raise click.ClickException(f"No active user named {username!r}.")
        return user
    admin = int(Permission.ADMIN)
    first_admin: User | None = db.session.scalar(
        sa.select(User)
        .join(Role)
        .where(User.active.is_(True), Role.permissions.op("&")(admin) == admin)
        .order_by(User.id)
        .limit(1)
    )
    if first_admin is None:
        raise click.ClickException(
            "No active administrator to stream as: pass --token or --user, "
            "or make one with `parley create-admin`."
        )
    return first_admin


def main() -> None:
    cli.main(prog_name="parley")
