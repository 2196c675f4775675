"""The ``parley`` command: run the server and administer it."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

from . import create_app
from .config import ConfigError


def _load_app() -> Flask:
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


@cli.command("run")
@click.option("--host", default=None, help="Address to listen on (default PARLEY_HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (default PARLEY_PORT).")
@click.option("--debug/--no-debug", default=None, help="Show tracebacks in the log.")
@with_appcontext
def run_command(host: str | None, port: int | None, debug: bool | None) -> None:
    """Serve Parley: HTTP, WebSocket and long-polling on one port."""
    from .extensions import socketio

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or app.config["PARLEY_HOST"]
    port = port or app.config["PARLEY_PORT"]
    mode = app.config["PARLEY_ASYNC_MODE"]
    click.echo(f"Parley is serving on http://{host}:{port}/ ({mode} mode; Ctrl+C stops it)")
    # Flask refuses app.run() under its CLI; this command is the server, so let it run.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(
        app,
        host=host,
        port=port,
        debug=app.debug if debug is None else debug,
        use_reloader=False,
        # Errors are already JSON with a logged traceback; Werkzeug's debugger would also
        # turn each closed WebSocket (a ConnectionError by design) into a 500 page.
        use_debugger=False,
        log_output=True,
        allow_unsafe_werkzeug=True,
    )


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


def main() -> None:
    cli.main(prog_name="parley")
