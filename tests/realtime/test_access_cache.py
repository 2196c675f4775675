"""Access checks kept between requests (store/access_cache): a socket's user and a
user's posting rights in a room are not read again while nothing changed, and every
change that decides access still reaches the next event."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_socketio import SocketIOTestClient
from realtime_support import Connect, emit, error, ok

from parley.actions import messages
from parley.actions.tokens import active_user_of_token
from parley.config import ConfigError, load_config
from parley.events import Event
from parley.extensions import db
from parley.models import ApiToken, Permission, Role, User
from parley.store.access_cache import AccessCache, Kept
from support import Member, make_room, send, set_role

API = "/api/v1"


def reads_of(statements: list[str], source: str) -> list[str]:
    return [s for s in statements if source in " ".join(s.split())]


def user_loads(statements: list[str]) -> list[str]:
    """The statements that load a token's user (the socket's per-event check)."""
    return reads_of(statements, "FROM users JOIN api_tokens")


def rights_reads(statements: list[str]) -> list[str]:
    """The statements that read a user's posting rights in a room."""
    return reads_of(statements, "FROM rooms LEFT OUTER JOIN memberships")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The app's access cache on a clock the test moves."""
    fake = FakeClock()
    monkeypatch.setitem(app.extensions, "parley.access_cache", AccessCache(5.0, fake))
    return fake


def test_later_sends_and_edits_read_neither_the_user_nor_the_rights_again(
    connect: Connect, alice: Member, count_queries: Callable[[], Any]
) -> None:
    room = make_room(alice, "general")
    sock = connect(alice)
    with count_queries() as first:
        sent = ok(emit(sock, "message:send", {"room_id": room["id"], "body": "one"}))
    # Sends and edits write the room's sequence and the sender's read mark: no change
    # to anyone's rights.
    ok(emit(sock, "message:edit", {"message_id": sent["message"]["id"], "body": "one!"}))
    with count_queries() as later:
        for body in ("two", "three"):
            ok(emit(sock, "message:send", {"room_id": room["id"], "body": body}))
    assert len(user_loads(first.statements)) == 1
    assert len(rights_reads(first.statements)) == 1
    assert user_loads(later.statements) == []
    assert rights_reads(later.statements) == []


def test_a_role_change_reaches_the_next_event(
    connect: Connect, make_user: Callable[..., Member], bob: Member
) -> None:
    root = make_user("root", role="Administrator")
    carol = make_user("carol", role="Moderator")
    room = make_room(bob, "general")
    assert carol.post(f"{API}/rooms/{room['id']}/join").status_code in (200, 201)
    first, second = (send(bob, room["id"], body).get_json()["id"] for body in ("one", "two"))
    sock = connect(carol)
    ok(emit(sock, "message:delete", {"message_id": first}))
    assert root.patch(f"{API}/users/{carol.id}", json={"role": "User"}).status_code == 200
    error(emit(sock, "message:delete", {"message_id": second}), "not_the_author")


def test_a_change_to_a_roles_permissions_reaches_the_next_event(
    app: Flask, connect: Connect, alice: Member
) -> None:
    """The cleanup after each test puts the default roles' permissions back."""
    room = make_room(alice, "general")
    sock = connect(alice)
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "before"}))
    with app.app_context():
        role = db.session.scalars(sa.select(Role).where(Role.name == "User")).one()
        role.permissions = int(Permission.READ)
        db.session.commit()
    error(
        emit(sock, "message:send", {"room_id": room["id"], "body": "after"}), "missing_permission"
    )


def test_a_display_name_change_shows_on_the_next_message(connect: Connect, alice: Member) -> None:
    room = make_room(alice, "general")
    sock = connect(alice)
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "before"}))
    assert alice.patch(f"{API}/users/me", json={"display_name": "Al"}).status_code == 200
    ack = ok(emit(sock, "message:send", {"room_id": room["id"], "body": "after"}))
    assert ack["message"]["author"]["display_name"] == "Al"


def test_a_change_made_elsewhere_reaches_the_socket_within_the_recheck_time(
    app: Flask, connect: Connect, alice: Member, clock: FakeClock
) -> None:
    room = make_room(alice, "general")
    sock = connect(alice)
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "loaded"}))
    # What another process (a second server, the command line) does: this process's
    # sessions never see the change.
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE users SET active = false WHERE id = :id"), {"id": alice.id}
        )
    clock.now += 4.9
    ok(emit(sock, "typing", {"room_id": room["id"]}))
    clock.now += 0.1
    error(emit(sock, "message:send", {"room_id": room["id"], "body": "gone"}), "invalid_token")


def test_with_a_recheck_time_of_zero_every_event_loads_the_user(
    app: Flask,
    connect: Connect,
    alice: Member,
    count_queries: Callable[[], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.extensions, "parley.access_cache", AccessCache(0))
    room = make_room(alice, "general")
    sock = connect(alice)
    with count_queries() as counted:
        for body in ("one", "two"):
            ok(emit(sock, "message:send", {"room_id": room["id"], "body": body}))
    assert len(user_loads(counted.statements)) == 2
    assert len(rights_reads(counted.statements)) == 2


def held_after(
    cache: AccessCache, token_id: int, held: Kept[User] | None
) -> tuple[User | None, Kept[User] | None]:
    user, kept = cache.socket_user(held, functools.partial(active_user_of_token, token_id))
    db.session.rollback()
    return user, kept


def test_only_changes_that_decide_access_drop_the_snapshots(
    app: Flask, alice: Member, clock: FakeClock
) -> None:
    snapshots = app.extensions["parley.access_cache"]
    with app.app_context():
        token_id = db.session.scalars(
            sa.select(ApiToken.id).where(ApiToken.user_id == alice.id)
        ).one()
        user, held = held_after(snapshots, token_id, None)
        assert user is not None and user.username == "alice" and held is not None

        stored = db.session.get_one(User, alice.id)
        stored.last_seen_at = stored.created_at
        db.session.get_one(ApiToken, token_id).last_used_at = stored.created_at
        db.session.commit()
        assert held_after(snapshots, token_id, held)[1] is held

        db.session.get_one(User, alice.id).display_name = "Alice L."
        db.session.rollback()
        assert held_after(snapshots, token_id, held)[1] is held

        db.session.get_one(User, alice.id).display_name = "Alice L."
        db.session.commit()
        user, newer = held_after(snapshots, token_id, held)
        assert newer is not held and user is not None and user.display_name == "Alice L."

        db.session.execute(sa.delete(ApiToken).where(ApiToken.id == token_id))
        db.session.commit()
        assert held_after(snapshots, token_id, newer) == (None, None)


def test_a_role_set_directly_in_this_process_drops_the_snapshots(
    app: Flask, alice: Member, clock: FakeClock
) -> None:
    snapshots = app.extensions["parley.access_cache"]
    with app.app_context():
        token_id = db.session.scalars(
            sa.select(ApiToken.id).where(ApiToken.user_id == alice.id)
        ).one()
        _, held = held_after(snapshots, token_id, None)
    set_role(app, alice.id, "Moderator")
    with app.app_context():
        user, _ = held_after(snapshots, token_id, held)
        assert user is not None and user.role.name == "Moderator"


def test_a_negative_recheck_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PARLEY_ACCESS_RECHECK_SECONDS"):
        load_config("testing", str(tmp_path), {"PARLEY_ACCESS_RECHECK_SECONDS": "-1"})


def posting_member(
    connect: Connect, owner: Member, member: Member
) -> tuple[int, SocketIOTestClient]:
    room = make_room(owner, "general")
    assert member.post(f"{API}/rooms/{room['id']}/join").status_code in (200, 201)
    sock = connect(member)
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "kept"}))
    return room["id"], sock


def send_to(sock: SocketIOTestClient, room_id: int, body: str = "again") -> dict[str, Any]:
    return emit(sock, "message:send", {"room_id": room_id, "body": body})


def test_a_ban_reaches_the_next_send(connect: Connect, alice: Member, bob: Member) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    assert alice.post(f"{API}/rooms/{room_id}/members/{bob.id}/ban").status_code == 200
    error(send_to(sock, room_id), "banned")


def test_a_mute_and_its_end_reach_the_next_send(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    mute = f"{API}/rooms/{room_id}/members/{bob.id}/mute"
    assert alice.post(mute, json={"minutes": 5}).status_code == 200
    error(send_to(sock, room_id), "muted")
    assert alice.delete(mute).status_code == 200
    ok(send_to(sock, room_id))


def test_archiving_the_room_reaches_the_next_send(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    assert alice.patch(f"{API}/rooms/{room_id}", json={"archived": True}).status_code == 200
    error(send_to(sock, room_id), "archived")


def test_leaving_and_joining_again_reach_the_next_send(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    assert bob.post(f"{API}/rooms/{room_id}/leave").status_code == 204
    error(send_to(sock, room_id), "not_a_member")
    assert bob.post(f"{API}/rooms/{room_id}/join").status_code in (200, 201)
    ok(send_to(sock, room_id))


def test_removal_from_the_room_reaches_the_next_send(
    connect: Connect, alice: Member, bob: Member
) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    assert alice.delete(f"{API}/rooms/{room_id}/members/{bob.id}").status_code == 204
    error(send_to(sock, room_id), "not_a_member")


def test_a_ban_made_elsewhere_reaches_the_send_within_the_recheck_time(
    app: Flask, connect: Connect, alice: Member, bob: Member, clock: FakeClock
) -> None:
    room_id, sock = posting_member(connect, alice, bob)
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        ban = sa.text("UPDATE memberships SET banned = true WHERE room_id = :r AND user_id = :u")
        connection.execute(ban, {"r": room_id, "u": bob.id})
    clock.now += 4.9
    ok(send_to(sock, room_id))
    clock.now += 0.1
    error(send_to(sock, room_id), "banned")


def test_a_send_reads_the_sockets_kept_user_without_adding_it_to_the_session(
    connect: Connect, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sends only read their user: they skip merging it into each event's session, and
    the copy the socket keeps stays out of every session, for the next event."""
    seen: list[tuple[str, bool]] = []

    def spying(action: Callable[..., Any]) -> Callable[..., Any]:
        def run(actor: User, *args: Any, **kwargs: Any) -> Any:
            state = sa.inspect(actor)
            seen.append((action.__name__, state.detached and actor not in db.session))
            return action(actor, *args, **kwargs)

        return run

    monkeypatch.setattr(messages, "send_message", spying(messages.send_message))
    monkeypatch.setattr(messages, "edit_message", spying(messages.edit_message))
    room = make_room(alice, "general")
    sock = connect(alice)
    first = ok(emit(sock, "message:send", {"room_id": room["id"], "body": "one"}))
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "two"}))
    ok(emit(sock, "message:edit", {"message_id": first["message"]["id"], "body": "one!"}))
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "three"}))
    assert seen == [
        ("send_message", True),
        ("send_message", True),
        ("edit_message", False),
        ("send_message", True),
    ]


def test_a_send_on_kept_checks_opens_no_session_of_its_own(
    app: Flask, connect: Connect, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch writes on a connection of its own: a send whose checks are all kept
    needs no session, and opening one only to close it was measurable per message."""
    room = make_room(alice, "general")
    sock = connect(alice)
    ok(emit(sock, "message:send", {"room_id": room["id"], "body": "loads what is kept"}))
    registry = db.session.registry
    opened: list[object] = []

    def counting_factory(create: Callable[[], object] = registry.createfunc) -> object:
        session = create()
        opened.append(session)
        return session

    monkeypatch.setattr(registry, "createfunc", counting_factory)
    ack = ok(emit(sock, "message:send", {"room_id": room["id"], "body": "kept"}))
    assert ack["message"]["body"] == "kept"
    assert opened == []
    ok(emit(sock, "message:edit", {"message_id": ack["message"]["id"], "body": "read"}))
    assert len(opened) == 1


def test_a_subscriber_that_hears_of_a_ban_finds_the_kept_rights_already_dropped(
    app: Flask, connect: Connect, alice: Member, bob: Member
) -> None:
    room_id, _sock = posting_member(connect, alice, bob)
    with app.app_context():
        cache = app.extensions["parley.access_cache"]
        assert cache.posting_rights(bob.id, room_id, lambda: None) is not None  # kept

    read_again: list[str] = []

    def subscriber(event: Event) -> None:
        if room_id in (event.room_id, event.payload.get("room_id")):
            cache.posting_rights(bob.id, room_id, lambda: read_again.append(event.type))

    unsubscribe = app.extensions["parley.bus"].subscribe(subscriber)
    try:
        assert alice.post(f"{API}/rooms/{room_id}/members/{bob.id}/ban").status_code == 200
    finally:
        unsubscribe()
    assert read_again, "a subscriber of the ban's events was answered from the kept rights"
