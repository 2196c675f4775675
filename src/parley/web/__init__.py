"""The web page a member chats in: a Jinja shell and static ES modules.

The page talks to the server only through the public REST API and the Socket.IO
protocol, so it holds no route of its own beyond the shell.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    send_from_directory,
)

from ..headers import PAGE_CSP
from ..identity import cookie_session_token
from ..models import Permission

bp = Blueprint("web", __name__)

# Copied from npm by `make web` (git-ignored); the page cannot run without it.
SOCKET_CLIENT = Path("vendor") / "socket.io.esm.min.js"


def assets_ready() -> bool:
    static = current_app.static_folder
    return static is not None and (Path(static) / SOCKET_CLIENT).is_file()


@bp.get("/")
def index() -> Response:
    return _page("app.html")


@bp.get("/admin")
def admin() -> Response:
    """The admin console, for administrators; anyone else gets the 404 of any unknown
    path, so the page does not tell that it exists."""
    token = cookie_session_token()
    if token is None or not token.user.can(Permission.ADMIN):
        abort(404)
    return _page("admin.html")


def _page(template: str) -> Response:
    ready = assets_ready()
    response = make_response(render_template(template, assets_ready=ready), 200 if ready else 503)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The page's icon, where browsers and feed readers look for one by themselves."""
    static = current_app.static_folder
    assert static is not None  # the app is made with its static folder
    return send_from_directory(
        Path(static) / "app", "icon.svg", mimetype="image/svg+xml", max_age=86400
    )
