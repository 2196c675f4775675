"""Helpers the tests share: a logged-in member, and short ways to make rooms and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from werkzeug.test import TestResponse

from parley import create_app
from parley.extensions import db, socketio
from parley.ratelimits import limiter

PASSWORD = "correct horse battery"

# A message as REST, events and acks show it: the public contract.
MESSAGE_KEYS = {
    "id",
    "room_id",
    "author",
    "body",
    "html",
    "client_id",
    "created_at",
    "edited_at",
    "deleted",
    "deleted_by",
    "seq",
    "changed_seq",
    "reactions",
    "pinned",
    "mentions",
    "mentions_room",
    "thread_id",
    "thread",
    "also_to_room",
}


def posted(member: Member, room_id: int, body: str = "hello") -> int:
    """The id of a message the member posts over REST."""
    response = send(member, room_id, body)
    assert response.status_code == 201, response.get_json()
    message_id: int = response.get_json()["id"]
    return message_id


def as_stored(sent: dict[str, Any]) -> dict[str, Any]:
    """A send's answer as the message is stored and told to others: without the
    sender's own `not_notified`."""
    return {key: value for key, value in sent.items() if key != "not_notified"}


@dataclass
class Member:
    """A registered user and a client that sends their token."""

    client: FlaskClient
    id: int
    username: str
    token: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)


def register(client: FlaskClient, username: str, role: str | None = None) -> Member:
    response = client.post(
        "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    member = Member(client, body["user"]["id"], username, body["token"], body["user"])
    if role is not None:
        set_role(client.application, member.id, role)
    return member


def set_role(app: Flask, user_id: int, role: str) -> None:
    from parley.models import Role, User

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.role = db.session.scalars(sa.select(Role).where(Role.name == role)).one()
        db.session.commit()


def make_room(member: Member, name: str, kind: str = "public", topic: str = "") -> dict[str, Any]:
    response = member.post("/api/v1/rooms", json={"name": name, "kind": kind, "topic": topic})
    assert response.status_code == 201, response.get_json()
    room: dict[str, Any] = response.get_json()
    return room


def send(member: Member, room_id: int, body: object, **extra: Any) -> TestResponse:
    return member.post(f"/api/v1/rooms/{room_id}/messages", json={"body": body, **extra})


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error of that status (and code), in the one error shape."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


def fullwidth(text: str) -> str:
    """The same ASCII letters in their fullwidth forms (U+FF01..U+FF5E); NFKC folds them back."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def login_token(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    response = login(client, username, password)
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["token"]
    return token


def stored_user(app: Flask, user_id: int) -> Any:
    """The user's row as stored, detached from the session."""
    from parley.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


@contextmanager
def another_app(app: Flask, **settings: Any) -> Iterator[Flask]:
    """An app over the session app's database with these settings (rate limits on, say).

    Flask-Limiter and Flask-SocketIO keep what ``init_app`` binds on their one module-level
    object, so building this app rebinds them; afterwards they are bound to exactly what
    they were bound to before."""
    kept = {extension: dict(vars(extension)) for extension in (limiter, socketio)}
    other: Flask | None = None
    try:
        other = create_app(
            "testing",
            {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **settings},
        )
        yield other
    finally:
        if other is not None:
            with other.app_context():
                db.engine.dispose()
        for extension, state in kept.items():
            vars(extension).clear()
            vars(extension).update(state)


def jpeg(width: int = 64, height: int = 48, color: str = "teal", quality: int = 80) -> bytes:
    """A real JPEG frame, made with Pillow."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=quality)
    return out.getvalue()


def web_session_id(app: Flask, user_id: int) -> str:
    """A new web session for this user, as its cookie names it: the session id."""
    from parley.actions.tokens import issue_token
    from parley.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        _, session_id = issue_token(user, "session", "session")
        db.session.commit()
    return session_id


# Children first; recovery codes and memberships would also go with their users' cascade.
TABLES_TO_EMPTY = [
    "avatars",
    "recovery_codes",
    "messages",
    "memberships",
    "rooms",
    "api_tokens",
    "users",
]


def empty_database(app: Flask) -> None:
    """Every row the tests made gone, the default roles back: what each test leaves."""
    from parley.models import insert_roles

    with app.app_context():
        db.session.rollback()
        for table in TABLES_TO_EMPTY:
            db.session.execute(sa.text(f"DELETE FROM {table}"))
        insert_roles(db.session)
        db.session.commit()
        db.session.remove()
    # Raw DELETEs pass by the ORM's change tracking; ids are reused after them.
    app.extensions["parley.access_cache"].invalidate()


# A process of its own, monkey-patched as the gevent server runs: an app on the database
# given first (with the JSON settings given second), and alice registered with a room;
# the script's body follows and prints its findings as JSON on its last line.
GEVENT_APP_SCRIPT = r"""
from gevent import monkey

monkey.patch_all()

import json
import sys
import time

import gevent
from flask_migrate import upgrade

from parley import create_app
from parley.actions.messages import send_message
from parley.extensions import db
from parley.models import Message, User

app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": sys.argv[1], **json.loads(sys.argv[2])})
with app.app_context():
    upgrade()
client = app.test_client()
made = client.post(
    "/api/v1/auth/register", json={"username": "alice", "password": "correct horse battery"}
).get_json()
headers = {"Authorization": f"Bearer {made['token']}"}
room = client.post("/api/v1/rooms", json={"name": "general"}, headers=headers).get_json()
"""


def run_under_gevent(body: str, database: Path, **settings: Any) -> Any:
    """Runs GEVENT_APP_SCRIPT then `body` in a fresh interpreter; returns its JSON."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            GEVENT_APP_SCRIPT + body,
            f"sqlite:///{database}",
            json.dumps(settings),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def close_test_sockets(clients: list[SocketIOTestClient]) -> None:
    """Disconnect Flask-SocketIO test clients and forget them: the library keeps every
    one it made, and its server keeps their environ, for the life of the process."""
    for client in clients:
        if client.is_connected():
            client.disconnect()
        SocketIOTestClient.clients.pop(client.eio_sid, None)
        if socketio.server is not None:
            socketio.server.environ.pop(client.eio_sid, None)


def bench_machine(**extra: Any) -> dict[str, Any]:
    """A made-up machine for a bench summary (`report`) built in a test."""
    return {
        "cpu": "x",
        "cores": 2,
        "memory_gb": 1,
        "os": "y",
        "python": "3",
        "git_commit": "c",
        **extra,
    }
