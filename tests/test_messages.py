"""Messages over the REST API: sending (with idempotent resends), history paging,
editing, deleting as tombstones, and read marks with unread counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from parley.actions.messages import send_message
from parley.events import Event
from parley.extensions import db
from parley.models import Membership, Message, User
from support import MESSAGE_KEYS, Member, as_stored, assert_error, make_room, send

API = "/api/v1"


def messages_url(room_id: int) -> str:
    return f"{API}/rooms/{room_id}/messages"


def message_url(message_id: int) -> str:
    return f"{API}/messages/{message_id}"


def join(member: Member, room_id: int) -> None:
    assert member.post(f"{API}/rooms/{room_id}/join").status_code == 201


def send_many(app: Flask, member: Member, room_id: int, count: int, prefix: str = "m") -> list[int]:
    """Post many messages quickly through the domain layer; returns their ids."""
    with app.app_context():
        user = db.session.get_one(User, member.id)
        ids = [send_message(user, room_id, f"{prefix}{i}")[0].id for i in range(count)]
        db.session.remove()
    return ids


def insert_many(app: Flask, member: Member, room_id: int, count: int) -> list[int]:
    """Store many messages in one transaction, for the paging tests; returns their ids."""
    with app.app_context():
        ids = []
        for i in range(count):
            row = Message(room_id=room_id, author_id=member.id, body=f"b{i}", html=f"<p>b{i}</p>")
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        db.session.remove()
    return ids


def message_count(app: Flask, **where: Any) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(Message).filter_by(**where)
        return db.session.scalar(query) or 0


def page(member: Member, room_id: int, **args: Any) -> dict[str, Any]:
    response = member.get(messages_url(room_id), query_string=args)
    assert response.status_code == 200, response.get_json()
    data: dict[str, Any] = response.get_json()
    return data


def ids_of(data: dict[str, Any]) -> list[int]:
    return [m["id"] for m in data["messages"]]


def room_state(member: Member, room_id: int) -> dict[str, Any]:
    rooms = member.get(f"{API}/rooms").get_json()["rooms"]
    return next(r for r in rooms if r["id"] == room_id)


# --- sending ---------------------------------------------------------------------------


def test_send_returns_201_with_the_stored_message(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    before = datetime.now(UTC)
    response = send(alice, room["id"], "hello")
    assert response.status_code == 201
    message = response.get_json()
    assert set(message) == MESSAGE_KEYS | {"not_notified"}
    assert message["not_notified"] == []
    assert message["room_id"] == room["id"]
    assert message["seq"] == 1 and message["changed_seq"] is None
    assert message["author"] == {
        "id": alice.id,
        "username": "alice",
        "display_name": "alice",
        "avatar_url": None,
    }
    assert message["body"] == "hello"
    assert message["html"] == "<p>hello</p>"
    assert message["client_id"] is None
    assert message["edited_at"] is None
    assert message["deleted"] is False
    assert before <= datetime.fromisoformat(message["created_at"]) <= datetime.now(UTC)
    with app.app_context():
        row = db.session.get_one(Message, message["id"])
        assert (row.room_id, row.author_id, row.body) == (room["id"], alice.id, "hello")


def test_send_trims_the_body(alice: Member, room: dict[str, Any]) -> None:
    assert send(alice, room["id"], "  \n hi there \n\t").get_json()["body"] == "hi there"


def test_send_keeps_inner_newlines(alice: Member, room: dict[str, Any]) -> None:
    message = send(alice, room["id"], "line one\nline two").get_json()
    assert message["body"] == "line one\nline two"
    assert message["html"] == "<p>line one<br>\nline two</p>"


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n", "x" * 10_001, 5, None, "nul\x00"])
def test_send_with_an_invalid_body_is_refused_and_stores_nothing(
    app: Flask, alice: Member, room: dict[str, Any], body: str | int | None
) -> None:
    assert_error(send(alice, room["id"], body), 422, "validation_error")
    assert message_count(app) == 0


def test_send_accepts_exactly_10000_characters(alice: Member, room: dict[str, Any]) -> None:
    body = "x" * 10_000
    response = send(alice, room["id"], body)
    assert response.status_code == 201
    assert response.get_json()["body"] == body


def test_send_counts_length_after_trimming(alice: Member, room: dict[str, Any]) -> None:
    response = send(alice, room["id"], "  " + "y" * 10_000 + "  ")
    assert response.status_code == 201
    assert len(response.get_json()["body"]) == 10_000


def test_send_renders_markdown_to_sanitized_html(alice: Member, room: dict[str, Any]) -> None:
    body = (
        "**bold** _it_ `code` ~~gone~~ <script>alert(1)</script>\n\n"
        "[site](https://example.com) [bad](javascript:alert(1)) "
        '<img src=x onerror="alert(1)">'
    )
    html = send(alice, room["id"], body).get_json()["html"]
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<code>code</code>" in html
    assert "<s>gone</s>" in html or "<del>gone</del>" in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html  # raw HTML is shown as text
    assert "<img" not in html
    assert 'href="javascript' not in html  # the javascript: link stays plain text
    assert 'href="https://example.com"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_send_to_a_public_room_i_have_not_joined_is_forbidden(
    app: Flask, alice: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    room = make_room(alice, "general")
    assert_error(send(carol, room["id"], "hi"), 403, "not_a_member")
    assert message_count(app) == 0


def test_send_to_a_private_room_i_am_not_in_is_not_found(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    assert_error(send(bob, room["id"], "hi"), 404, "not_found")


def test_send_to_a_missing_room_is_not_found(alice: Member) -> None:
    assert_error(send(alice, 424242, "hi"), 404, "not_found")


def test_send_to_an_archived_room_is_forbidden(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    alice.patch(f"{API}/rooms/{room['id']}", json={"archived": True})
    assert_error(send(alice, room["id"], "hi"), 403, "archived")
    assert message_count(app) == 0


def test_message_ids_increase_across_rooms_server_wide(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    ids = [
        send(alice, room_id, f"n{i}").get_json()["id"]
        for i, room_id in enumerate([room["id"], other["id"], room["id"], other["id"]])
    ]
    ids += send_many(app, alice, other["id"], 2) + send_many(app, alice, room["id"], 2)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


# --- client_id and resends -------------------------------------------------------------


def test_resend_with_same_client_id_returns_the_first_message(
    app: Flask, alice: Member, room: dict[str, Any], events: list[Event]
) -> None:
    first = send(alice, room["id"], "hello", client_id="c-1")
    assert first.status_code == 201
    assert first.get_json()["client_id"] == "c-1"
    again = send(alice, room["id"], "hello", client_id="c-1")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert message_count(app) == 1
    assert [e.type for e in events if e.type == "message:new"] == ["message:new"]


def test_resend_with_a_different_body_still_returns_the_first_message(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    first = send(alice, room["id"], "original", client_id="c-2").get_json()
    again = send(alice, room["id"], "changed", client_id="c-2")
    assert again.status_code == 200
    assert again.get_json()["body"] == "original"
    assert again.get_json()["id"] == first["id"]
    assert message_count(app) == 1


def test_resend_does_not_move_the_read_mark_of_others(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    send(alice, room["id"], "hello", client_id="c-3")
    send(alice, room["id"], "hello", client_id="c-3")
    assert room_state(bob, room["id"])["unread_count"] == 1


def test_same_client_id_in_another_room_is_a_conflict(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    first = send(alice, room["id"], "hello", client_id="c-9").get_json()
    error = assert_error(
        send(alice, other["id"], "hello", client_id="c-9"), 409, "client_id_reused"
    )
    assert error["details"] == {"message_id": first["id"], "room_id": room["id"]}
    assert message_count(app) == 1


def test_different_authors_may_use_the_same_client_id(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    a = send(alice, room["id"], "from alice", client_id="same")
    b = send(bob, room["id"], "from bob", client_id="same")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.get_json()["id"] != b.get_json()["id"]
    assert message_count(app, client_id="same") == 2


def test_a_client_id_stays_used_after_the_message_is_deleted(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    first = send(alice, room["id"], "oops", client_id="gone").get_json()
    alice.delete(message_url(first["id"]))
    again = send(alice, room["id"], "oops", client_id="gone")
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["deleted"] is True
    assert message_count(app) == 1


@pytest.mark.parametrize("client_id", ["", "has space", "x" * 65, "ünï", 7])
def test_invalid_client_id_is_refused(
    app: Flask, alice: Member, room: dict[str, Any], client_id: str | int
) -> None:
    assert_error(send(alice, room["id"], "hi", client_id=client_id), 422, "validation_error")
    assert message_count(app) == 0


def test_longest_client_id_with_every_allowed_character_is_accepted(
    alice: Member, room: dict[str, Any]
) -> None:
    client_id = ("Az09_-:." * 8)[:64]
    response = send(alice, room["id"], "hi", client_id=client_id)
    assert response.status_code == 201
    assert response.get_json()["client_id"] == client_id


# --- history ---------------------------------------------------------------------------


def test_history_of_an_empty_room(alice: Member, room: dict[str, Any]) -> None:
    assert page(alice, room["id"]) == {"messages": [], "has_more": False}
    assert page(alice, room["id"], after=0) == {"messages": [], "has_more": False}
    assert page(alice, room["id"], before=10**9) == {"messages": [], "has_more": False}


def test_history_with_exactly_limit_messages_has_no_more(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 5)
    data = page(alice, room["id"], limit=5)
    assert (ids_of(data), data["has_more"]) == (ids, False)
    data = page(alice, room["id"], after=0, limit=5)
    assert (ids_of(data), data["has_more"]) == (ids, False)


def test_history_with_one_more_than_limit_has_more(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 6)
    newest = page(alice, room["id"], limit=5)
    assert (ids_of(newest), newest["has_more"]) == (ids[1:], True)
    oldest = page(alice, room["id"], after=0, limit=5)
    assert (ids_of(oldest), oldest["has_more"]) == (ids[:5], True)


def test_history_before_the_first_id_is_empty(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 3)
    assert page(alice, room["id"], before=ids[0]) == {"messages": [], "has_more": False}


def test_history_after_the_last_id_is_empty(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 3)
    assert page(alice, room["id"], after=ids[-1]) == {"messages": [], "has_more": False}


def test_history_before_and_after_are_exclusive_bounds(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 5)
    assert ids_of(page(alice, room["id"], before=ids[2])) == ids[:2]
    assert ids_of(page(alice, room["id"], after=ids[2])) == ids[3:]


def test_history_only_returns_this_rooms_messages(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    mine = send_many(app, alice, room["id"], 2)
    theirs = send_many(app, alice, other["id"], 2)
    assert ids_of(page(alice, room["id"])) == mine
    assert ids_of(page(alice, other["id"], after=0)) == theirs


def test_history_with_both_before_and_after_is_refused(alice: Member, room: dict[str, Any]) -> None:
    response = alice.get(messages_url(room["id"]), query_string={"before": 5, "after": 1})
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "abc"},
        {"limit": -1},
        {"before": -1},
        {"after": "x"},
        {"after": 2**63},
    ],
)
def test_history_with_bad_paging_arguments_is_refused(
    alice: Member, room: dict[str, Any], args: dict[str, Any]
) -> None:
    assert_error(alice.get(messages_url(room["id"]), query_string=args), 422, "validation_error")


def test_history_limit_100_is_allowed_and_default_is_50(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 101)
    full = page(alice, room["id"], limit=100)
    assert (ids_of(full), full["has_more"]) == (ids[1:], True)
    default = page(alice, room["id"])
    assert (ids_of(default), default["has_more"]) == (ids[-50:], True)


def test_walking_back_with_before_returns_every_message_once_in_order(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 120)
    seen: list[int] = []
    pages = []
    cursor: dict[str, Any] = {}
    while True:
        data = page(alice, room["id"], limit=50, **cursor)
        got = ids_of(data)
        assert got == sorted(got)  # every page ascending
        pages.append((len(got), data["has_more"]))
        seen = got + seen
        if not data["has_more"]:
            break
        cursor = {"before": got[0]}
    assert pages == [(50, True), (50, True), (20, False)]
    assert seen == ids


def test_walking_forward_with_after_returns_every_message_once_in_order(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 120)
    seen: list[int] = []
    cursor = 0
    while True:
        data = page(alice, room["id"], after=cursor, limit=50)
        got = ids_of(data)
        assert got == sorted(got)
        seen += got
        if not data["has_more"]:
            break
        cursor = got[-1]
    assert seen == ids


def test_a_non_member_may_read_a_public_rooms_history(
    alice: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    send(alice, room["id"], "visible")
    assert [m["body"] for m in page(carol, room["id"])["messages"]] == ["visible"]


def test_a_private_rooms_history_is_hidden_from_outsiders(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    send(alice, room["id"], "secret")
    assert_error(bob.get(messages_url(room["id"])), 404, "not_found")


# --- editing ---------------------------------------------------------------------------


def test_author_edits_a_message(app: Flask, alice: Member, room: dict[str, Any]) -> None:
    message = send(alice, room["id"], "hello").get_json()
    response = alice.patch(message_url(message["id"]), json={"body": "  **hello** again "})
    assert response.status_code == 200
    edited = response.get_json()
    assert edited["id"] == message["id"]
    assert edited["body"] == "**hello** again"
    assert edited["html"] == "<p><strong>hello</strong> again</p>"
    assert edited["edited_at"] is not None
    assert datetime.fromisoformat(edited["edited_at"]) >= datetime.fromisoformat(
        message["created_at"]
    )
    assert edited["created_at"] == message["created_at"]
    with app.app_context():
        row = db.session.get_one(Message, message["id"])
        assert row.body == "**hello** again"
        assert row.edited_at is not None
    assert page(alice, room["id"])["messages"] == [edited]


def test_editing_to_the_same_body_changes_nothing(alice: Member, room: dict[str, Any]) -> None:
    message = as_stored(send(alice, room["id"], "hello").get_json())
    response = alice.patch(message_url(message["id"]), json={"body": "hello"})
    assert response.status_code == 200
    assert response.get_json() == message


def test_only_the_author_may_edit(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    mod = make_user("mod", role="Moderator")
    message = send(alice, room["id"], "hello").get_json()
    assert_error(
        bob.patch(message_url(message["id"]), json={"body": "hacked"}), 403, "not_the_author"
    )
    assert_error(
        mod.patch(message_url(message["id"]), json={"body": "hacked"}), 403, "not_the_author"
    )
    with app.app_context():
        row = db.session.get_one(Message, message["id"])
        assert (row.body, row.edited_at) == ("hello", None)


def test_editing_a_deleted_message_is_a_conflict(alice: Member, room: dict[str, Any]) -> None:
    message = send(alice, room["id"], "hello").get_json()
    alice.delete(message_url(message["id"]))
    response = alice.patch(message_url(message["id"]), json={"body": "back"})
    assert_error(response, 409, "message_deleted")


@pytest.mark.parametrize("body", ["", "  ", "x" * 10_001])
def test_editing_with_an_invalid_body_is_refused(
    app: Flask, alice: Member, room: dict[str, Any], body: str
) -> None:
    message = send(alice, room["id"], "hello").get_json()
    assert_error(alice.patch(message_url(message["id"]), json={"body": body}), 422)
    with app.app_context():
        assert db.session.get_one(Message, message["id"]).body == "hello"


def test_editing_a_missing_message_is_not_found(alice: Member) -> None:
    assert_error(alice.patch(message_url(999999), json={"body": "x"}), 404, "not_found")


def test_a_muted_author_may_not_edit(alice: Member, bob: Member, room: dict[str, Any]) -> None:
    message = send(bob, room["id"], "hello").get_json()
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/mute", json={"minutes": 5})
    assert_error(bob.patch(message_url(message["id"]), json={"body": "x"}), 403, "muted")


def test_a_message_in_a_private_room_is_not_found_for_outsiders(alice: Member, bob: Member) -> None:
    room = make_room(alice, "hideout", kind="private")
    message = send(alice, room["id"], "secret").get_json()
    assert_error(bob.patch(message_url(message["id"]), json={"body": "x"}), 404, "not_found")
    assert_error(bob.delete(message_url(message["id"])), 404, "not_found")


# --- deleting --------------------------------------------------------------------------


def test_author_deletes_a_message_leaving_a_tombstone(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    message = send(alice, room["id"], "regret").get_json()
    after = send(alice, room["id"], "fine").get_json()
    response = alice.delete(message_url(message["id"]))
    assert response.status_code == 200
    tombstone = response.get_json()
    assert tombstone["id"] == message["id"]
    assert (tombstone["body"], tombstone["html"], tombstone["deleted"]) == ("", "", True)
    assert tombstone["author"]["id"] == alice.id
    history = page(alice, room["id"])["messages"]
    assert [m["id"] for m in history] == [message["id"], after["id"]]
    assert history[0] == tombstone
    with app.app_context():
        row = db.session.get_one(Message, message["id"])
        assert (row.body, row.html) == ("", "")
        assert row.deleted_at is not None


def test_deleting_twice_is_fine(app: Flask, alice: Member, room: dict[str, Any]) -> None:
    message = send(alice, room["id"], "regret").get_json()
    first = alice.delete(message_url(message["id"]))
    second = alice.delete(message_url(message["id"]))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == first.get_json()


def test_room_moderator_may_delete_others_messages(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    join(carol, room["id"])
    alice.patch(f"{API}/rooms/{room['id']}/members/{bob.id}", json={"role": "moderator"})
    message = send(carol, room["id"], "spam").get_json()
    response = bob.delete(message_url(message["id"]))
    assert response.status_code == 200
    assert response.get_json()["deleted"] is True


def test_room_owner_may_delete_others_messages(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message = send(bob, room["id"], "spam").get_json()
    assert alice.delete(message_url(message["id"])).status_code == 200


def test_global_moderator_may_delete_in_a_room_they_are_not_in(
    make_user: Callable[..., Member], alice: Member, room: dict[str, Any]
) -> None:
    mod = make_user("mod", role="Moderator")
    message = send(alice, room["id"], "spam").get_json()
    response = mod.delete(message_url(message["id"]))
    assert response.status_code == 200
    assert response.get_json()["deleted"] is True


def test_others_may_not_delete_a_message(
    app: Flask, alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    message = send(alice, room["id"], "mine").get_json()
    assert_error(bob.delete(message_url(message["id"])), 403, "not_the_author")
    assert_error(carol.delete(message_url(message["id"])), 403, "not_the_author")
    with app.app_context():
        assert db.session.get_one(Message, message["id"]).deleted_at is None


def test_moderator_of_another_room_may_not_delete_here(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    bobs_room = make_room(bob, "bobs")
    assert bobs_room
    message = send(alice, room["id"], "mine").get_json()
    assert_error(bob.delete(message_url(message["id"])), 403, "not_the_author")


def test_deleting_a_missing_message_is_not_found(alice: Member) -> None:
    assert_error(alice.delete(message_url(999999)), 404, "not_found")


# --- read marks ------------------------------------------------------------------------


def read(member: Member, room_id: int, message_id: object) -> TestResponse:
    return member.post(f"{API}/rooms/{room_id}/read", json={"message_id": message_id})


def test_mark_read_moves_the_mark_and_counts_what_is_left(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 5)
    response = read(bob, room["id"], ids[1])
    assert response.status_code == 200
    assert response.get_json() == {
        "room_id": room["id"],
        "last_read_message_id": ids[1],
        "unread_count": 3,
        "mention_count": 0,
    }
    with app.app_context():
        assert db.session.get_one(Membership, (room["id"], bob.id)).last_read_message_id == ids[1]
    state = room_state(bob, room["id"])
    assert (state["unread_count"], state["last_read_message_id"]) == (3, ids[1])


def test_mark_read_never_moves_back(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 5)
    read(bob, room["id"], ids[3])
    response = read(bob, room["id"], ids[1])
    assert response.get_json()["last_read_message_id"] == ids[3]
    assert response.get_json()["unread_count"] == 1
    assert read(bob, room["id"], 0).get_json()["last_read_message_id"] == ids[3]


def test_mark_read_clamps_to_the_newest_message(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    ids = send_many(app, alice, room["id"], 3)
    response = read(bob, room["id"], ids[-1] + 1000)
    assert response.get_json()["last_read_message_id"] == ids[-1]
    assert response.get_json()["unread_count"] == 0
    # a later message is still unread: the mark did not jump past it
    send(alice, room["id"], "new")
    assert room_state(bob, room["id"])["unread_count"] == 1


def test_mark_read_in_an_empty_room_stays_at_zero(alice: Member, room: dict[str, Any]) -> None:
    response = read(alice, room["id"], 10**12)
    assert response.get_json() == {
        "room_id": room["id"],
        "last_read_message_id": 0,
        "unread_count": 0,
        "mention_count": 0,
    }


def test_unread_count_ignores_deleted_messages_and_my_own(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    kept = send(alice, room["id"], "kept").get_json()
    gone = send(alice, room["id"], "gone").get_json()
    alice.delete(message_url(gone["id"]))
    with app.app_context():
        user = db.session.get(User, bob.id)
        # bob's own message, sent without touching his read mark
        db.session.add(Message(room_id=room["id"], author=user, body="mine", html=""))
        db.session.commit()
    state = room_state(bob, room["id"])
    assert state["unread_count"] == 1
    assert read(bob, room["id"], kept["id"]).get_json()["unread_count"] == 0


def test_unread_counts_in_my_rooms_follow_reading(
    app: Flask, alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "other")
    join(bob, other["id"])
    ids = send_many(app, alice, room["id"], 4)
    send_many(app, alice, other["id"], 2)
    counts = {r["id"]: r["unread_count"] for r in bob.get(f"{API}/rooms").get_json()["rooms"]}
    assert counts == {room["id"]: 4, other["id"]: 2}
    read(bob, room["id"], ids[2])
    counts = {r["id"]: r["unread_count"] for r in bob.get(f"{API}/rooms").get_json()["rooms"]}
    assert counts == {room["id"]: 1, other["id"]: 2}


def test_mark_read_in_a_public_room_i_have_not_joined_is_forbidden(
    alice: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    send(alice, room["id"], "hi")
    assert_error(read(carol, room["id"], 1), 403, "not_a_member")


@pytest.mark.parametrize("message_id", [-1, "5", None, 2**63])
def test_mark_read_with_an_invalid_id_is_refused(
    bob: Member, room: dict[str, Any], message_id: int | str | None
) -> None:
    assert_error(read(bob, room["id"], message_id), 422, "validation_error")
