"""Pins (moderators and owners; both people in a direct room) and the bodies a message
had before its edits."""

from __future__ import annotations

from typing import Any

from support import Member, assert_error, make_room, posted

API = "/api/v1"


def pin(member: Member, message_id: int) -> Any:
    return member.request("PUT", f"{API}/messages/{message_id}/pin")


def pinned_ids(member: Member, room_id: int) -> list[int]:
    response = member.get(f"{API}/rooms/{room_id}/pins")
    assert response.status_code == 200
    return [m["id"] for m in response.get_json()["messages"]]


def test_an_owner_pins_and_unpins_and_the_room_lists_its_pins_newest_first(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    first = posted(bob, room["id"], "first")
    second = posted(bob, room["id"], "second")
    response = pin(alice, first)
    assert response.status_code == 200
    assert response.get_json()["pinned"] is True
    pin(alice, second)
    assert pinned_ids(bob, room["id"]) == [second, first]
    unpinned = alice.delete(f"{API}/messages/{first}/pin")
    assert unpinned.status_code == 200 and unpinned.get_json()["pinned"] is False
    assert pinned_ids(bob, room["id"]) == [second]
    history = bob.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"]
    assert [(m["id"], m["pinned"]) for m in history] == [(first, False), (second, True)]


def test_a_member_without_moderation_rights_cannot_pin(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    assert_error(pin(bob, message_id), 403, "not_a_moderator")
    assert pinned_ids(alice, room["id"]) == []


def test_both_people_in_a_direct_room_may_pin(alice: Member, bob: Member) -> None:
    direct = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    message_id = posted(alice, direct["id"])
    assert pin(bob, message_id).get_json()["pinned"] is True
    assert alice.delete(f"{API}/messages/{message_id}/pin").get_json()["pinned"] is False


def test_deleting_a_pinned_message_unpins_it(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(bob, room["id"])
    pin(alice, message_id)
    bob.delete(f"{API}/messages/{message_id}")
    assert pinned_ids(alice, room["id"]) == []
    assert_error(pin(alice, message_id), 409, "message_deleted")


def test_edit_history_lists_the_earlier_bodies_oldest_first_with_their_times(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"], "one")
    created = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"][-1]
    alice.patch(f"{API}/messages/{message_id}", json={"body": "two"})
    third = alice.patch(f"{API}/messages/{message_id}", json={"body": "**three**"}).get_json()
    response = bob.get(f"{API}/messages/{message_id}/history")
    assert response.status_code == 200
    found = response.get_json()
    assert found["message_id"] == message_id
    edits = found["edits"]
    assert [(e["body"], e["html"]) for e in edits] == [("one", "<p>one</p>"), ("two", "<p>two</p>")]
    assert edits[0]["written_at"] == created["created_at"]
    assert edits[0]["replaced_at"] == edits[1]["written_at"]
    assert edits[1]["replaced_at"] == third["edited_at"]


def test_a_message_never_edited_has_no_history_and_a_deleted_one_loses_it(
    alice: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"], "one")
    assert alice.get(f"{API}/messages/{message_id}/history").get_json()["edits"] == []
    alice.patch(f"{API}/messages/{message_id}", json={"body": "two"})
    assert len(alice.get(f"{API}/messages/{message_id}/history").get_json()["edits"]) == 1
    alice.delete(f"{API}/messages/{message_id}")
    assert alice.get(f"{API}/messages/{message_id}/history").get_json()["edits"] == []


def test_an_outsider_cannot_read_a_private_messages_history(alice: Member, bob: Member) -> None:
    private = make_room(alice, "secret", kind="private")
    message_id = posted(alice, private["id"])
    alice.patch(f"{API}/messages/{message_id}", json={"body": "changed"})
    assert_error(bob.get(f"{API}/messages/{message_id}/history"), 404, "not_found")
