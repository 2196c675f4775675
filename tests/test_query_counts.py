"""SQL statements per request stay the same as rows grow: no N+1 queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from parley.actions import messages, rooms
from parley.actions.messages import send_message
from parley.extensions import db
from parley.models import User
from parley.presenters import member_out, message_out, my_room_out, room_out, user_out
from support import Member, make_room, send


def statements_for(member: Member, path: str, count_queries: Callable[[], Any]) -> int:
    member.get(path)  # the first request may mark the token used; count a steady one
    with count_queries() as counter:
        response = member.get(path)
    assert response.status_code == 200, response.get_json()
    count: int = counter.count
    return count


def test_room_list_query_count_does_not_grow_with_rooms(
    make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    first = make_room(alice, "first")
    send(alice, first["id"], "hi")
    alice.post("/api/v1/dm", json={"user_id": bob.id})
    few = statements_for(alice, "/api/v1/rooms", count_queries)

    for index in range(8):
        room = make_room(alice, f"room-{index}", kind="private" if index % 2 else "public")
        alice.post(f"/api/v1/rooms/{room['id']}/members", json={"user_id": bob.id})
        send(bob, room["id"], f"message {index}")
    for other in ("carol", "dave", "erin"):
        peer = make_user(other)
        alice.post("/api/v1/dm", json={"user_id": peer.id})
    many = statements_for(alice, "/api/v1/rooms", count_queries)

    assert len(alice.get("/api/v1/rooms").get_json()["rooms"]) == 13
    assert many == few


def test_history_page_query_count_does_not_grow_with_messages_or_authors(
    app: Flask, make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    room = make_room(alice, "general")
    send(alice, room["id"], "first")
    path = f"/api/v1/rooms/{room['id']}/messages?limit=50"
    few = statements_for(alice, path, count_queries)

    authors = [make_user(f"user{index}") for index in range(10)]
    for author in authors:
        author.post(f"/api/v1/rooms/{room['id']}/join")
    with app.app_context():
        users = [db.session.get_one(User, a.id) for a in authors]
        for index in range(60):
            send_message(users[index % len(users)], room["id"], f"message {index}")
    many = statements_for(alice, path, count_queries)

    page = alice.get(path).get_json()
    assert len(page["messages"]) == 50 and page["has_more"]
    assert len({m["author"]["id"] for m in page["messages"]}) == 10
    assert many == few


def test_history_page_query_count_does_not_grow_with_reactions_pins_mentions_and_threads(
    make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    room = make_room(alice, "general")
    first = send(alice, room["id"], "first").get_json()["id"]
    alice.request("PUT", f"/api/v1/messages/{first}/reactions/%F0%9F%91%8D")
    path = f"/api/v1/rooms/{room['id']}/messages?limit=50"
    few = statements_for(alice, path, count_queries)

    people = [make_user(f"user{index}") for index in range(6)]
    faces = [f"%F0%9F%98%{0x80 + index:02X}" for index in range(8)]
    for person in people:
        person.post(f"/api/v1/rooms/{room['id']}/join")
    for index in range(30):
        body = f"message {index} for @user{(index + 1) % 6} and @alice"
        message_id = send(people[index % 6], room["id"], body).get_json()["id"]
        for person in people[: index % 4 + 1]:
            person.request(
                "PUT", f"/api/v1/messages/{message_id}/reactions/{faces[index % len(faces)]}"
            )
        if index % 5 == 0:
            alice.request("PUT", f"/api/v1/messages/{message_id}/pin")
        if index % 3 == 0:
            for person in people[: index % 4 + 1]:
                reply = send(person, room["id"], "a reply", thread_id=message_id)
                assert reply.status_code == 201, reply.get_json()
            send(alice, room["id"], "to both", thread_id=message_id, also_to_room=True)
    many = statements_for(alice, path, count_queries)

    page = alice.get(path).get_json()["messages"]
    assert sum(len(m["reactions"]) for m in page) == 31
    assert sum(m["pinned"] for m in page) == 6
    assert sum(len(m["mentions"]) for m in page) == 60
    roots = [m for m in page if m["thread"] is not None]
    assert len(roots) == 10
    assert sum(len(m["thread"]["participant_ids"]) for m in roots) > 10
    assert sum(m["thread_id"] is not None for m in page) == 10  # the ones also to the room
    assert many == few


def test_directory_query_count_does_not_grow_with_rooms(
    make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    make_room(alice, "only")
    few = statements_for(alice, "/api/v1/rooms/directory", count_queries)
    for index in range(10):
        make_room(alice, f"public-{index}")
    many = statements_for(alice, "/api/v1/rooms/directory", count_queries)
    assert many == few


def test_presenting_what_the_actions_loaded_runs_no_query(
    app: Flask, make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room(alice, "general")
    bob.post(f"/api/v1/rooms/{room['id']}/join")
    send(bob, room["id"], "hello")
    alice.post("/api/v1/dm", json={"user_id": bob.id})
    with app.app_context():
        actor = db.session.get(User, alice.id)
        assert actor is not None
        views = rooms.room_views(rooms.directory(actor))
        mine = rooms.list_my_rooms(actor)
        members = rooms.list_members(actor, room["id"])
        page = messages.history(actor, room["id"])
        with count_queries() as counter:
            shapes = [
                *(room_out(view) for view in views),
                *(my_room_out(item) for item in mine),
                *(member_out(member) for member in members),
                *(message_out(message) for message in page.messages),
                user_out(actor),
            ]
    assert len(shapes) == 1 + 2 + 2 + 1 + 1
    assert counter.count == 0


def test_thread_and_followed_threads_query_counts_do_not_grow_with_replies_or_threads(
    make_user: Callable[..., Member], count_queries: Callable[[], Any]
) -> None:
    alice = make_user("alice")
    room = make_room(alice, "general")
    root = send(alice, room["id"], "root").get_json()["id"]
    send(alice, room["id"], "first reply", thread_id=root)
    thread_path = f"/api/v1/messages/{root}/thread?limit=50"
    few_replies = statements_for(alice, thread_path, count_queries)
    few_threads = statements_for(alice, "/api/v1/threads", count_queries)

    people = [make_user(f"user{index}") for index in range(5)]
    for person in people:
        person.post(f"/api/v1/rooms/{room['id']}/join")
    for index in range(20):
        person = people[index % len(people)]
        reply = send(person, room["id"], f"reply {index}", thread_id=root).get_json()["id"]
        person.request("PUT", f"/api/v1/messages/{reply}/reactions/%F0%9F%91%8D")
        other_root = send(alice, room["id"], f"root {index}").get_json()["id"]
        send(person, room["id"], f"reply to {index}", thread_id=other_root)
    many_replies = statements_for(alice, thread_path, count_queries)
    many_threads = statements_for(alice, "/api/v1/threads", count_queries)

    assert len(alice.get(thread_path).get_json()["messages"]) == 21
    assert len(alice.get("/api/v1/threads").get_json()["threads"]) == 21
    assert (many_replies, many_threads) == (few_replies, few_threads)
