"""Threads over REST: replies name a message of the room, stay out of the timeline unless
also sent to the room, keep their root's summary, and make their authors follow the
thread with unread counts; a bad thread_id is refused and stores nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from parley.actions.mentions import render_body
from parley.events import Event
from support import Member, assert_error, make_room, posted, send

API = "/api/v1"


def reply(
    member: Member, room_id: int, thread_id: object, body: str = "re", **extra: Any
) -> dict[str, Any]:
    response = send(member, room_id, body, thread_id=thread_id, **extra)
    assert response.status_code == 201, response.get_json()
    sent: dict[str, Any] = response.get_json()
    return sent


def thread(member: Member, message_id: int, query: str = "") -> dict[str, Any]:
    response = member.get(f"{API}/messages/{message_id}/thread{query}")
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def timeline_ids(member: Member, room_id: int) -> list[int]:
    page = member.get(f"{API}/rooms/{room_id}/messages").get_json()
    return [m["id"] for m in page["messages"]]


def followed(member: Member) -> list[dict[str, Any]]:
    response = member.get(f"{API}/threads")
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["threads"]
    return found


def unread_of(member: Member) -> dict[int, int]:
    return {t["root"]["id"]: t["unread_count"] for t in followed(member)}


def mark_read(member: Member, message_id: int, last_read_id: object) -> Any:
    return member.post(
        f"{API}/messages/{message_id}/thread/read", json={"last_read_id": last_read_id}
    )


def test_a_reply_carries_its_thread_and_its_root_the_summary(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"], "root")
    first = reply(bob, room["id"], root_id, "one")
    second = reply(alice, room["id"], root_id, "two")
    assert (first["thread_id"], first["thread"], first["also_to_room"]) == (root_id, None, False)
    found = thread(bob, root_id)
    assert found["root"]["id"] == root_id and found["root"]["thread_id"] is None
    assert found["root"]["thread"] == {
        "reply_count": 2,
        "last_reply_at": second["created_at"],
        "participant_ids": [bob.id, alice.id],
    }
    assert [m["id"] for m in found["messages"]] == [first["id"], second["id"]]
    assert found["has_more"] is False
    # A message with no replies has no summary.
    lone = thread(bob, posted(alice, room["id"], "lone"))
    assert (lone["root"]["thread"], lone["messages"], lone["has_more"]) == (None, [], False)


def test_the_thread_pages_with_after_and_limit(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    ids = [reply(bob, room["id"], root_id, f"r{i}")["id"] for i in range(5)]
    page = thread(alice, root_id, "?limit=2")
    assert ([m["id"] for m in page["messages"]], page["has_more"]) == (ids[:2], True)
    page = thread(alice, root_id, f"?after={ids[1]}&limit=2")
    assert ([m["id"] for m in page["messages"]], page["has_more"]) == (ids[2:4], True)
    page = thread(alice, root_id, f"?after={ids[3]}&limit=2")
    assert ([m["id"] for m in page["messages"]], page["has_more"]) == (ids[4:], False)
    assert_error(alice.get(f"{API}/messages/{root_id}/thread?limit=0"), 422, "validation_error")


def test_a_reply_to_a_reply_joins_the_roots_thread(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id)
    nested = reply(alice, room["id"], first["id"])
    assert nested["thread_id"] == root_id
    by_reply = thread(bob, first["id"])
    assert by_reply["root"]["id"] == root_id
    assert [m["id"] for m in by_reply["messages"]] == [first["id"], nested["id"]]
    assert by_reply["root"]["thread"]["reply_count"] == 2


def test_replies_stay_out_of_the_timeline_unless_also_sent_to_the_room(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    hidden = reply(bob, room["id"], root_id, "only in the thread")
    shown = reply(bob, room["id"], root_id, "also here", also_to_room=True)
    assert (shown["thread_id"], shown["also_to_room"]) == (root_id, True)
    assert timeline_ids(alice, room["id"]) == [root_id, shown["id"]]
    assert [m["id"] for m in thread(alice, root_id)["messages"]] == [hidden["id"], shown["id"]]
    # The room's unread count counts the timeline only: the shown reply, not the hidden.
    [mine] = [r for r in alice.get(f"{API}/rooms").get_json()["rooms"] if r["id"] == room["id"]]
    assert mine["unread_count"] == 1
    # Search finds replies wherever they are, carrying thread_id to open them by.
    hits = alice.get(f"{API}/search?q=thread").get_json()["messages"]
    assert [(m["id"], m["thread_id"]) for m in hits] == [(hidden["id"], root_id)]


def test_a_thread_only_reply_does_not_move_the_rooms_last_message(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    reply(bob, room["id"], root_id, "only in the thread")

    def last_message_ids() -> tuple[int, int]:
        [mine] = [r for r in alice.get(f"{API}/rooms").get_json()["rooms"] if r["id"] == room["id"]]
        shown = alice.get(f"{API}/rooms/{room['id']}").get_json()
        return mine["last_message_id"], shown["last_message_id"]

    # The page orders rooms by it and clears a room's unread mark once it has shown it:
    # a reply the timeline never shows must not be what it waits for.
    assert last_message_ids() == (root_id, root_id)
    shown = reply(bob, room["id"], root_id, "also here", also_to_room=True)
    assert last_message_ids() == (shown["id"], shown["id"])


@pytest.mark.parametrize("bad", ["12", -1, 0, True, 1.5, [1], {"id": 1}])
def test_a_thread_id_that_is_not_a_message_id_is_refused(
    alice: Member, room: dict[str, Any], bad: object
) -> None:
    posted(alice, room["id"])
    error = assert_error(send(alice, room["id"], "re", thread_id=bad), 422, "validation_error")
    assert "thread_id" in str(error["details"])
    assert len(timeline_ids(alice, room["id"])) == 1


def test_also_to_room_without_a_thread_is_refused(alice: Member, room: dict[str, Any]) -> None:
    assert_error(send(alice, room["id"], "hi", also_to_room=True), 422, "validation_error")
    assert_error(send(alice, room["id"], "hi", also_to_room="yes"), 422, "validation_error")
    assert timeline_ids(alice, room["id"]) == []


def test_a_thread_id_of_another_room_or_of_no_message_is_not_found_and_stores_nothing(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    root_id = posted(alice, room["id"])
    elsewhere = make_room(alice, "elsewhere")
    other = posted(alice, elsewhere["id"])
    hidden_room = make_room(alice, "hidden", kind="private")
    hidden = posted(alice, hidden_room["id"])
    events.clear()
    for thread_id in (other, hidden, 987654321):
        error = assert_error(
            send(bob, room["id"], "re", thread_id=thread_id), 404, "thread_not_found"
        )
        assert error["details"] == {"room_id": room["id"], "thread_id": thread_id}
    assert events == []
    assert thread(alice, root_id)["messages"] == []
    assert timeline_ids(alice, room["id"]) == [root_id]


def test_a_deleted_root_or_reply_takes_no_more_replies(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id)
    assert bob.delete(f"{API}/messages/{first['id']}").status_code == 200
    events.clear()
    error = assert_error(
        send(alice, room["id"], "re", thread_id=first["id"]), 422, "thread_root_deleted"
    )
    assert error["details"] == {"thread_id": first["id"], "root_id": root_id}
    assert alice.delete(f"{API}/messages/{root_id}").status_code == 200
    events.clear()
    assert_error(send(bob, room["id"], "re", thread_id=root_id), 422, "thread_root_deleted")
    assert events == []
    # The thread stays readable under its tombstone.
    assert [m["id"] for m in thread(bob, root_id)["messages"]] == [first["id"]]


def test_an_outsider_cannot_read_a_private_rooms_thread_nor_post_into_it(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    private = make_room(alice, "secret", kind="private")
    root_id = posted(alice, private["id"])
    first = reply(alice, private["id"], root_id)
    assert_error(bob.get(f"{API}/messages/{root_id}/thread"), 404, "not_found")
    assert_error(bob.get(f"{API}/messages/{first['id']}/thread"), 404, "not_found")
    assert_error(mark_read(bob, root_id, first["id"]), 404, "not_found")
    assert_error(send(bob, private["id"], "re", thread_id=root_id), 404, "not_found")
    # Public: anyone may read it, a member may post into it.
    public = make_room(alice, "open")
    open_root = posted(alice, public["id"])
    assert thread(bob, open_root)["root"]["id"] == open_root
    assert_error(send(bob, public["id"], "re", thread_id=open_root), 403, "not_a_member")


def test_a_resend_of_a_reply_is_the_same_reply(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id, client_id="c-1")
    again = send(bob, room["id"], "re", thread_id=root_id, client_id="c-1")
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert thread(alice, root_id)["root"]["thread"]["reply_count"] == 1


def test_sending_and_deleting_replies_tells_the_room_the_new_summary_after_commit(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    root_id = posted(alice, room["id"])
    events.clear()
    first = reply(bob, room["id"], root_id)
    new, update = events
    assert (new.type, new.room_id, new.payload["message"]["thread_id"]) == (
        "message:new",
        room["id"],
        root_id,
    )
    assert update.type == "thread:update" and update.room_id == room["id"]
    assert update.payload == {
        "room_id": room["id"],
        "root_id": root_id,
        "thread": {
            "reply_count": 1,
            "last_reply_at": first["created_at"],
            "participant_ids": [bob.id],
        },
        "seq": update.payload["seq"],
    }
    # The summary's change has a number of its own, after the reply's.
    assert update.payload["seq"] == first["seq"] + 1
    root = thread(alice, root_id)["root"]
    assert root["changed_seq"] == update.payload["seq"]
    events.clear()
    assert bob.delete(f"{API}/messages/{first['id']}").status_code == 200
    deleted, emptied = events
    assert deleted.type == "message:delete"
    assert emptied.type == "thread:update"
    assert emptied.payload["thread"] is None
    assert emptied.payload["seq"] > deleted.payload["seq"]
    assert thread(alice, root_id)["root"]["thread"] is None


def test_deleting_a_reply_rewrites_the_summary_from_the_others(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    carol.post(f"{API}/rooms/{room['id']}/join")
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id)
    second = reply(carol, room["id"], root_id)
    third = reply(bob, room["id"], root_id)
    assert bob.delete(f"{API}/messages/{third['id']}").status_code == 200
    assert thread(alice, root_id)["root"]["thread"] == {
        "reply_count": 2,
        "last_reply_at": second["created_at"],
        "participant_ids": [bob.id, carol.id],
    }
    assert bob.delete(f"{API}/messages/{first['id']}").status_code == 200
    assert thread(alice, root_id)["root"]["thread"]["participant_ids"] == [carol.id]


def test_the_roots_author_and_repliers_follow_with_unread_replies(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    carol.post(f"{API}/rooms/{room['id']}/join")
    root_id = posted(alice, room["id"])
    assert followed(alice) == []
    first = reply(bob, room["id"], root_id)
    assert unread_of(alice) == {root_id: 1}
    # A person's own replies count as read.
    assert unread_of(bob) == {root_id: 0}
    assert followed(carol) == []
    reply(carol, room["id"], root_id)
    assert (unread_of(alice), unread_of(bob), unread_of(carol)) == (
        {root_id: 2},
        {root_id: 1},
        {root_id: 0},
    )
    [entry] = followed(bob)
    assert entry["last_read_id"] == first["id"]
    assert entry["root"]["thread"]["reply_count"] == 2


def test_followed_threads_come_newest_activity_first(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    older = posted(alice, room["id"], "older")
    newer = posted(alice, room["id"], "newer")
    reply(bob, room["id"], newer)
    reply(bob, room["id"], older)
    assert [t["root"]["id"] for t in followed(alice)] == [older, newer]
    reply(bob, room["id"], newer)
    assert [t["root"]["id"] for t in followed(alice)] == [newer, older]
    page = alice.get(f"{API}/threads?limit=1").get_json()
    assert ([t["root"]["id"] for t in page["threads"]], page["has_more"]) == ([newer], True)


def test_followed_threads_page_on_from_the_last_of_a_page_with_none_missed_or_twice(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    roots = [posted(alice, room["id"], f"root {n}") for n in range(5)]
    for root_id in roots:
        reply(bob, room["id"], root_id)
    newest_first = list(reversed(roots))
    seen: list[int] = []
    before = ""
    for _ in range(5):
        page = alice.get(f"{API}/threads?limit=2{before}").get_json()
        seen += [t["root"]["id"] for t in page["threads"]]
        if not page["has_more"]:
            break
        before = f"&before={seen[-1]}"
    assert seen == newest_first
    # A thread that moved to the top meanwhile is not shown again after the cursor.
    reply(bob, room["id"], roots[0])
    page = alice.get(f"{API}/threads?limit=10&before={newest_first[1]}").get_json()
    assert [t["root"]["id"] for t in page["threads"]] == newest_first[2:-1]


def test_paging_threads_from_one_not_followed_is_not_found(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    reply(bob, room["id"], root_id)
    unfollowed = posted(bob, room["id"], "no replies")
    for before in (unfollowed, root_id + 10_000):
        error = assert_error(alice.get(f"{API}/threads?before={before}"), 404, "not_found")
        assert error["details"] == {"before": before}
    assert_error(alice.get(f"{API}/threads?before=-1"), 422)


def test_marking_a_thread_read_moves_forward_only_and_up_to_its_newest_reply(
    alice: Member, bob: Member, room: dict[str, Any], events: list[Event]
) -> None:
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id)
    second = reply(bob, room["id"], root_id)
    events.clear()
    response = mark_read(alice, first["id"], first["id"])
    assert response.status_code == 200
    assert response.get_json() == {
        "root_id": root_id,
        "last_read_id": first["id"],
        "unread_count": 1,
        "following": True,
    }
    [told] = events
    assert (told.type, told.user_ids) == ("thread:unread", (alice.id,))
    assert told.payload == {
        "room_id": room["id"],
        "root_id": root_id,
        "last_read_id": first["id"],
        "unread_count": 1,
    }
    assert mark_read(alice, root_id, 0).get_json()["last_read_id"] == first["id"]
    done = mark_read(alice, root_id, second["id"] + 1000).get_json()
    assert (done["last_read_id"], done["unread_count"]) == (second["id"], 0)
    assert unread_of(alice) == {root_id: 0}
    assert_error(mark_read(alice, root_id, -1), 422, "validation_error")
    assert_error(mark_read(alice, root_id, "x"), 422, "validation_error")


def test_marking_a_thread_one_does_not_follow_keeps_nothing(
    alice: Member, bob: Member, make_user: Callable[..., Member], room: dict[str, Any]
) -> None:
    carol = make_user("carol")
    root_id = posted(alice, room["id"])
    first = reply(bob, room["id"], root_id)
    answer = mark_read(carol, root_id, first["id"]).get_json()
    assert answer == {
        "root_id": root_id,
        "last_read_id": first["id"],
        "unread_count": 0,
        "following": False,
    }
    assert followed(carol) == []


def test_threads_of_a_room_one_was_removed_or_banned_from_vanish(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    private = make_room(alice, "secret", kind="private")
    invited = alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": bob.id})
    assert invited.status_code == 201
    private_root = posted(alice, private["id"])
    reply(bob, private["id"], private_root)
    public_root = posted(alice, room["id"])
    reply(bob, room["id"], public_root)
    assert {t["root"]["id"] for t in followed(bob)} == {private_root, public_root}
    removed = alice.delete(f"{API}/rooms/{private['id']}/members/{bob.id}")
    assert removed.status_code == 204
    assert [t["root"]["id"] for t in followed(bob)] == [public_root]
    assert alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban").status_code == 200
    assert followed(bob) == []
    assert_error(bob.get(f"{API}/messages/{public_root}/thread"), 403, "banned")
    # Alice still follows both.
    assert {t["root"]["id"] for t in followed(alice)} == {private_root, public_root}


def test_an_edit_of_a_root_carries_a_reply_committed_while_it_was_on_its_way(
    alice: Member, bob: Member, room: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit loads the root, then waits for the room's sequence: a reply that lands in
    between must be in the summary it tells with a newer changed_seq."""
    root_id = posted(alice, room["id"])

    def render_while_bob_replies(body: str) -> Any:
        replying = threading.Thread(
            target=send, args=(bob, room["id"], "re"), kwargs={"thread_id": root_id}
        )
        replying.start()
        replying.join()
        return render_body(body)

    monkeypatch.setattr("parley.actions.messages.render_body", render_while_bob_replies)
    edited = alice.patch(f"{API}/messages/{root_id}", json={"body": "edited"}).get_json()
    assert edited["thread"]["reply_count"] == 1
    assert thread(alice, root_id)["root"] == edited


def test_concurrent_replies_leave_an_exact_summary(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    root_id = posted(alice, room["id"])
    failures: list[int] = []

    def replies(member: Member, count: int) -> None:
        for n in range(count):
            response = send(member, room["id"], f"r{n}", thread_id=root_id)
            if response.status_code != 201:
                failures.append(response.status_code)

    writers = [threading.Thread(target=replies, args=(m, 8)) for m in (alice, bob, bob)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert failures == []
    found = thread(alice, root_id, "?limit=100")
    assert found["root"]["thread"]["reply_count"] == len(found["messages"]) == 24
    assert found["root"]["thread"]["last_reply_at"] == found["messages"][-1]["created_at"]
    assert sorted(found["root"]["thread"]["participant_ids"]) == sorted([alice.id, bob.id])
    # Alice's own replies are read, and so is all before her last one.
    authors = [(m["id"], m["author"]["id"]) for m in found["messages"]]
    her_last = max(id_ for id_, author in authors if author == alice.id)
    unread = [id_ for id_, author in authors if author == bob.id and id_ > her_last]
    assert unread_of(alice) == {root_id: len(unread)}
