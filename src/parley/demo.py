"""Demo content for ``parley seed-demo``, made through the same actions as any client."""

from __future__ import annotations

from collections.abc import Iterator

from .actions import accounts, messages, rooms
from .models import User

DEMO_USERS = [("alice", "Alice Liddell"), ("bob", "Bob Builder"), ("carol", "Carol Danvers")]
DEMO_ROOMS = [
    ("general", "Anything goes", "public"),
    ("random", "Off topic", "public"),
    ("staff", "Private planning", "private"),
]
DEMO_MESSAGES = [
    ("alice", "general", "Welcome to **Parley**! This is the general room."),
    ("bob", "general", "Hi all. Markdown works: `code`, *emphasis*, [links](https://example.org)."),
    ("carol", "general", "Search finds messages too: try searching for *welcome*."),
    ("alice", "random", "Anyone up for lunch?"),
    ("alice", "staff", "Only invited members can read this room."),
]


def seed_demo(password: str) -> Iterator[str]:
    users: dict[str, User] = {}
    for username, display_name in DEMO_USERS:
        user = accounts.find_user(username)
        if user is None:
            user = accounts.create_user(username, password, display_name)
            yield f"user {username} (password {password!r})"
        users[username] = user
    from .extensions import db

    db.session.commit()
    room_ids: dict[str, int] = {}
    for name, topic, kind in DEMO_ROOMS:
        found = [r for r in rooms.directory(users["alice"]) if r.name == name]
        mine = [
            m.membership.room
            for m in rooms.list_my_rooms(users["alice"])
            if m.membership.room.name == name
        ]
        if found or mine:
            room_ids[name] = (found or mine)[0].id
            continue
        room = rooms.create_room(users["alice"], name, topic, kind)
        room_ids[name] = room.id
        yield f"room {name} ({kind})"
    for username in ("bob", "carol"):
        for name in ("general", "random"):
            rooms.join_room(users[username], room_ids[name])
    rooms.invite(users["alice"], room_ids["staff"], users["bob"].id)
    for index, (username, room_name, body) in enumerate(DEMO_MESSAGES):
        _, created, _ = messages.send_message(
            users[username], room_ids[room_name], body, client_id=f"seed-demo-{index}"
        )
        if created:
            yield f"message in {room_name} from {username}"
    yield "Demo ready: log in as alice, bob or carol."
