"""The `parley` command group: create-admin, roles sync, seed-demo, the shell context."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from parley.cli import cli
from parley.extensions import Base, db
from parley.models import DEFAULT_ROLES, Membership, Message, Role, Room, User
from support import PASSWORD, Member, assert_error

LOGIN = "/api/v1/auth/login"
ADMIN_PASSWORD = "administrator passphrase"


def fullwidth(text: str) -> str:
    """The same ASCII letters in their fullwidth forms (U+FF01..U+FF5E); NFKC folds them back."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


@pytest.fixture
def invoke(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run one `parley` subcommand against the test app, as the real group would."""
    # FlaskGroup sets FLASK_RUN_FROM_CLI in the process environment; put it back after.
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input)

    return run


def user_named(app: Flask, username_key: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username_key == username_key))
        if user is None:
            return None
        user.role.name  # noqa: B018  (load the role before detaching)
        db.session.expunge_all()
        return user


def count(app: Flask, model: type[Base]) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def login(client: FlaskClient, username: str, password: str) -> TestResponse:
    return client.post(LOGIN, json={"username": username, "password": password})


# --- create-admin -----------------------------------------------------------------------


def test_create_admin_creates_an_administrator_who_can_log_in(
    app: Flask, client: FlaskClient, invoke: Callable[..., Result]
) -> None:
    result = invoke(
        "create-admin",
        "--username",
        "root",
        "--password",
        ADMIN_PASSWORD,
        "--display-name",
        "The Root",
    )
    assert result.exit_code == 0, result.output
    user = user_named(app, "root")
    assert user is not None
    assert f"Created root (id {user.id}) as Administrator." in result.output
    assert user.role.name == "Administrator"
    assert user.display_name == "The Root"
    assert user.active is True

    response = login(client, "root", ADMIN_PASSWORD)
    assert response.status_code == 200
    assert "ADMIN" in response.get_json()["user"]["permissions"]


def test_create_admin_prompts_for_missing_values_with_a_confirmed_password(
    app: Flask, client: FlaskClient, invoke: Callable[..., Result]
) -> None:
    result = invoke("create-admin", input=f"root\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output
    user = user_named(app, "root")
    assert user is not None and user.role.name == "Administrator"
    assert login(client, "root", ADMIN_PASSWORD).status_code == 200


def test_create_admin_promotes_an_existing_user_and_keeps_their_password(
    app: Flask, client: FlaskClient, invoke: Callable[..., Result], alice: Member
) -> None:
    result = invoke("create-admin", "--username", "ALICE", "--password", ADMIN_PASSWORD)
    assert result.exit_code == 0, result.output
    assert f"Promoted existing user alice (id {alice.id}) to Administrator" in result.output
    assert "password and display name are unchanged" in result.output
    assert count(app, User) == 1
    user = user_named(app, "alice")
    assert user is not None and user.role.name == "Administrator"
    assert alice.get("/api/v1/users/me").get_json()["role"] == "Administrator"
    assert login(client, "alice", PASSWORD).status_code == 200
    assert_error(login(client, "alice", ADMIN_PASSWORD), 401, "invalid_credentials")


def test_create_admin_reactivates_a_deactivated_existing_user(
    app: Flask, client: FlaskClient, invoke: Callable[..., Result], make_user: Callable[..., Member]
) -> None:
    root = make_user("root", role="Administrator")
    carol = make_user("carol")
    assert root.patch(f"/api/v1/users/{carol.id}", json={"active": False}).status_code == 200
    result = invoke("create-admin", "--username", "carol", "--password", ADMIN_PASSWORD)
    assert result.exit_code == 0, result.output
    user = user_named(app, "carol")
    assert user is not None
    assert (user.active, user.role.name) == (True, "Administrator")
    assert login(client, "carol", PASSWORD).status_code == 200


def test_create_admin_run_twice_creates_one_user(app: Flask, invoke: Callable[..., Result]) -> None:
    args = ("create-admin", "--username", "root", "--password", ADMIN_PASSWORD)
    assert invoke(*args).exit_code == 0
    second = invoke(*args)
    assert second.exit_code == 0, second.output
    assert "Promoted existing user root" in second.output
    assert count(app, User) == 1


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("a b", ADMIN_PASSWORD, "username"),
        ("ab", ADMIN_PASSWORD, "username"),
        ("x" * 33, ADMIN_PASSWORD, "username"),
        ("root\x00", ADMIN_PASSWORD, "username"),
        ("root", "short", "password"),
    ],
)
def test_create_admin_with_invalid_input_exits_non_zero_with_a_message(
    app: Flask, invoke: Callable[..., Result], username: str, password: str, field: str
) -> None:
    result = invoke("create-admin", "--username", username, "--password", password)
    assert result.exit_code != 0
    assert f"{field}:" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, AssertionError)
    assert count(app, User) == 0


@pytest.mark.parametrize("password", ["password1234", "root-password-xyz", "qwertyuiop"])
def test_create_admin_refuses_a_weak_password(
    app: Flask, invoke: Callable[..., Result], password: str
) -> None:
    result = invoke("create-admin", "--username", "root", "--password", password)
    assert result.exit_code != 0
    assert "password" in result.output
    assert "Traceback" not in result.output
    assert count(app, User) == 0


def test_create_admin_normalizes_the_username_like_registration(
    app: Flask, invoke: Callable[..., Result]
) -> None:
    result = invoke("create-admin", "--username", fullwidth("root"), "--password", ADMIN_PASSWORD)
    assert result.exit_code == 0, result.output
    user = user_named(app, "root")
    assert user is not None and user.username == "root"


# --- roles sync ---------------------------------------------------------------------------


def role_rows(app: Flask) -> list[tuple[str, int, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Role.name, Role.permissions, Role.default).order_by(Role.id)
        ).all()
        return [(name, permissions, default) for name, permissions, default in rows]


def test_roles_sync_prints_each_role_with_its_permissions(invoke: Callable[..., Result]) -> None:
    result = invoke("roles", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "User: READ, WRITE, CREATE_ROOMS (default)",
        "Moderator: READ, WRITE, CREATE_ROOMS, MODERATE",
        "Administrator: READ, WRITE, CREATE_ROOMS, MODERATE, ADMIN",
    ]


def test_roles_sync_is_idempotent(app: Flask, invoke: Callable[..., Result]) -> None:
    first = invoke("roles", "sync")
    rows = role_rows(app)
    second = invoke("roles", "sync")
    assert second.exit_code == 0
    assert second.output == first.output
    assert role_rows(app) == rows
    assert len(rows) == len(DEFAULT_ROLES)
    expected = {name: (int(perms), default) for name, (perms, default) in DEFAULT_ROLES.items()}
    assert {name: (perms, default) for name, perms, default in rows} == expected


def test_roles_sync_repairs_changed_role_permissions(
    app: Flask, invoke: Callable[..., Result], alice: Member
) -> None:
    with app.app_context():
        db.session.execute(sa.update(Role).values(permissions=0, default=False))
        db.session.commit()
    assert_error(alice.get("/api/v1/users"), 403, "missing_permission")

    result = invoke("roles", "sync")
    assert result.exit_code == 0, result.output
    rows = {name: (perms, default) for name, perms, default in role_rows(app)}
    assert rows["User"] == (int(DEFAULT_ROLES["User"][0]), True)
    assert alice.get("/api/v1/users").status_code == 200


# --- seed-demo ------------------------------------------------------------------------------


def demo_counts(app: Flask) -> dict[str, int]:
    return {
        "users": count(app, User),
        "rooms": count(app, Room),
        "memberships": count(app, Membership),
        "messages": count(app, Message),
    }


def test_seed_demo_creates_users_rooms_and_messages(
    app: Flask, client: FlaskClient, invoke: Callable[..., Result]
) -> None:
    result = invoke("seed-demo")
    assert result.exit_code == 0, result.output
    assert "Demo ready" in result.output
    for name in ("alice", "bob", "carol"):
        assert user_named(app, name) is not None
        assert f"user {name}" in result.output
    with app.app_context():
        rooms = dict(db.session.execute(sa.select(Room.name, Room.kind)).all())
    assert rooms == {"general": "public", "random": "public", "staff": "private"}
    assert count(app, Message) == 5
    user = user_named(app, "alice")
    assert user is not None and user.display_name == "Alice Liddell"

    token = login(client, "bob", "parley-demo").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/rooms", headers=headers)
    assert mine.status_code == 200, mine.get_json()


def test_seed_demo_run_twice_creates_nothing_new(app: Flask, invoke: Callable[..., Result]) -> None:
    assert invoke("seed-demo").exit_code == 0
    before = demo_counts(app)
    second = invoke("seed-demo")
    assert second.exit_code == 0, second.output
    assert demo_counts(app) == before
    assert second.output.splitlines() == ["Demo ready: log in as alice, bob or carol."]


def test_seed_demo_uses_the_given_password(
    client: FlaskClient, invoke: Callable[..., Result]
) -> None:
    assert invoke("seed-demo", "--password", "my demo password").exit_code == 0
    assert login(client, "carol", "my demo password").status_code == 200
    assert_error(login(client, "carol", "parley-demo"), 401, "invalid_credentials")


def test_seed_demo_that_cannot_finish_exits_with_a_message_not_a_traceback(
    invoke: Callable[..., Result], bob: Member
) -> None:
    # Someone else's private room already holds a demo room's name.
    assert bob.post("/api/v1/rooms", json={"name": "general", "kind": "private"}).status_code == 201
    result = invoke("seed-demo")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Error: seed-demo stopped: A room with that name exists." in result.output


# --- shell ----------------------------------------------------------------------------------


def test_shell_context_offers_the_models_and_db(app: Flask) -> None:
    with app.app_context():
        context = app.make_shell_context()
    assert context["User"] is User
    assert context["Room"] is Room
    assert context["Message"] is Message
    assert context["db"] is db
    assert context["app"] is app


def test_shell_command_starts_with_the_models_and_db_in_scope(
    invoke: Callable[..., Result],
) -> None:
    result = invoke(
        "shell", input="print('in scope:', User.__name__, Room.__name__, Message.__name__, db)\n"
    )
    assert result.exit_code == 0, result.output
    assert "in scope: User Room Message <SQLAlchemy" in result.output


def test_the_group_offers_the_documented_commands() -> None:
    assert {"run", "create-admin", "roles", "seed-demo", "shell", "routes"} <= set(cli.commands)


# --- run --------------------------------------------------------------------------------


def test_run_offers_the_two_async_modes(invoke: Callable[..., Result]) -> None:
    result = invoke("run", "--help")
    assert result.exit_code == 0, result.output
    assert "--async-mode [gevent|threading]" in result.output


def test_run_refuses_an_async_mode_it_does_not_serve(invoke: Callable[..., Result]) -> None:
    result = invoke("run", "--async-mode", "eventlet")
    assert result.exit_code == 2
    assert "'eventlet' is not one of 'gevent', 'threading'" in result.output
