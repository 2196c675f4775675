"""Reactions over REST: one emoji per person a message, grouped by emoji in the order
each was first used, refused (and nothing stored) for anything that is not one emoji."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import pytest

from parley.actions.mentions import render_body
from parley.actions.reactions import MAX_EMOJI_PER_MESSAGE
from support import Member, assert_error, make_room, posted

API = "/api/v1"


def react(member: Member, message_id: int, emoji: str) -> Any:
    return member.request("PUT", f"{API}/messages/{message_id}/reactions/{quote(emoji)}")


def unreact(member: Member, message_id: int, emoji: str) -> Any:
    return member.delete(f"{API}/messages/{message_id}/reactions/{quote(emoji)}")


def reactions_of(member: Member, room_id: int, message_id: int) -> list[dict[str, Any]]:
    page = member.get(f"{API}/rooms/{room_id}/messages").get_json()["messages"]
    found: list[dict[str, Any]] = next(m for m in page if m["id"] == message_id)["reactions"]
    return found


def test_reactions_are_grouped_by_emoji_in_first_reacted_order(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    assert react(bob, message_id, "🎉").status_code == 200
    assert react(alice, message_id, "👍").status_code == 200
    response = react(alice, message_id, "🎉")
    assert response.status_code == 200
    expected = [
        {"emoji": "🎉", "count": 2, "user_ids": [bob.id, alice.id]},
        {"emoji": "👍", "count": 1, "user_ids": [alice.id]},
    ]
    assert response.get_json() == {"message_id": message_id, "reactions": expected}
    assert reactions_of(bob, room["id"], message_id) == expected


def test_reacting_twice_with_the_same_emoji_is_one_reaction(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    first = react(bob, message_id, "👍").get_json()
    again = react(bob, message_id, "👍")
    assert again.status_code == 200
    assert again.get_json() == first
    assert first["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (":thumbsup:", "👍"),
        (":+1:", "👍"),
        (":tada:", "🎉"),
        ("👍🏽", "👍🏽"),  # a skin tone
        ("👩‍👩‍👧", "👩‍👩‍👧"),  # a ZWJ sequence
        ("🇫🇷", "🇫🇷"),  # a flag
        ("❤", "❤️"),  # typed without its emoji presentation selector
    ],
)
def test_a_reaction_is_stored_in_its_fully_qualified_unicode_form(
    alice: Member, room: dict[str, Any], sent: str, stored: str
) -> None:
    message_id = posted(alice, room["id"])
    response = react(alice, message_id, sent)
    assert response.status_code == 200, response.get_json()
    assert [r["emoji"] for r in response.get_json()["reactions"]] == [stored]
    # Taken back under the other spelling of the same emoji.
    assert unreact(alice, message_id, stored).get_json()["reactions"] == []


@pytest.mark.parametrize("sent", ["a", "👍👍", "👍 ", "🏽", ":no_such_emoji:", "x👍", "<b>"])
def test_anything_but_one_emoji_is_refused_and_nothing_is_stored(
    alice: Member, room: dict[str, Any], sent: str
) -> None:
    message_id = posted(alice, room["id"])
    found = assert_error(react(alice, message_id, sent), 422, "invalid_emoji")
    assert found["details"]["emoji"] == sent
    assert reactions_of(alice, room["id"], message_id) == []


def test_taking_back_a_reaction_removes_only_that_persons(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    react(alice, message_id, "👍")
    react(bob, message_id, "👍")
    response = unreact(bob, message_id, "👍")
    assert response.status_code == 200
    assert response.get_json()["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [alice.id]}]
    # Taking back one never made changes nothing.
    assert (
        unreact(bob, message_id, "🎉").get_json()["reactions"] == response.get_json()["reactions"]
    )


def test_a_message_takes_at_most_twenty_different_emoji(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    faces = [chr(0x1F600 + index) for index in range(MAX_EMOJI_PER_MESSAGE + 1)]
    for face in faces[:MAX_EMOJI_PER_MESSAGE]:
        assert react(alice, message_id, face).status_code == 200
    assert_error(react(bob, message_id, faces[-1]), 409, "too_many_reactions")
    # One already there may still be added to.
    assert react(bob, message_id, faces[0]).status_code == 200
    found = reactions_of(alice, room["id"], message_id)
    assert [r["emoji"] for r in found] == faces[:MAX_EMOJI_PER_MESSAGE]
    assert found[0]["count"] == 2


def test_a_deleted_message_takes_no_reactions_and_loses_its_own(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    react(bob, message_id, "👍")
    assert alice.delete(f"{API}/messages/{message_id}").get_json()["reactions"] == []
    assert_error(react(bob, message_id, "🎉"), 409, "message_deleted")
    assert reactions_of(bob, room["id"], message_id) == []


def test_a_non_member_cannot_react_nor_learn_of_a_private_message(
    alice: Member, bob: Member, make_user: Any
) -> None:
    private = make_room(alice, "secret", kind="private")
    message_id = posted(alice, private["id"])
    assert_error(react(bob, message_id, "👍"), 404, "not_found")
    public = make_room(alice, "open")
    public_message = posted(alice, public["id"])
    assert_error(react(bob, public_message, "👍"), 403, "not_a_member")
    assert reactions_of(alice, public["id"], public_message) == []


def test_a_reaction_moves_the_messages_change_sequence_so_sync_brings_it(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    message_id = posted(alice, room["id"])
    before = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"][-1]
    react(bob, message_id, "👍")
    after = alice.get(f"{API}/rooms/{room['id']}/messages").get_json()["messages"][-1]
    assert after["changed_seq"] is not None
    assert after["changed_seq"] > (before["changed_seq"] or before["seq"])


def test_an_edit_carries_the_reactions_committed_while_it_was_on_its_way(
    alice: Member, bob: Member, room: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit loads the message, then waits for the room's sequence: a reaction that
    lands in between must be in the copy it tells with a newer changed_seq, or a client
    taking that copy would lose the reaction."""
    message_id = posted(alice, room["id"])

    def render_while_bob_reacts(body: str) -> Any:
        reacting = threading.Thread(target=react, args=(bob, message_id, "👍"))
        reacting.start()
        reacting.join()
        return render_body(body)

    monkeypatch.setattr("parley.actions.messages.render_body", render_while_bob_reacts)
    edited = alice.patch(f"{API}/messages/{message_id}", json={"body": "edited"}).get_json()
    assert edited["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]
    assert reactions_of(alice, room["id"], message_id) == edited["reactions"]
