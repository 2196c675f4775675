"""GET /rooms/{id}/messages?around=<message id>: a search hit with the history around it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from support import Member, assert_error, make_room
from test_messages import API, ids_of, insert_many, messages_url, page


def test_around_a_message_holds_it_with_half_the_page_before_and_the_rest_after(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 30)
    data = page(alice, room["id"], around=ids[15], limit=10)
    assert ids_of(data) == ids[11:21]
    assert (data["has_more"], data["has_newer"]) == (True, True)


def test_around_a_message_near_the_start_fills_the_page_with_newer_ones(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 30)
    data = page(alice, room["id"], around=ids[1], limit=10)
    assert ids_of(data) == ids[:10]
    assert (data["has_more"], data["has_newer"]) == (False, True)


def test_around_a_message_near_the_end_fills_the_page_with_older_ones(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 30)
    data = page(alice, room["id"], around=ids[-2], limit=10)
    assert ids_of(data) == ids[-10:]
    assert (data["has_more"], data["has_newer"]) == (True, False)


def test_around_in_a_room_smaller_than_the_page_holds_the_whole_room(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 4)
    data = page(alice, room["id"], around=ids[2])
    assert ids_of(data) == ids
    assert (data["has_more"], data["has_newer"]) == (False, False)


def test_paging_on_from_around_in_both_directions_meets_every_message_once(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 25)
    data = page(alice, room["id"], around=ids[12], limit=5)
    seen = ids_of(data)
    has_older, has_newer = data["has_more"], data["has_newer"]
    while has_older:
        older = page(alice, room["id"], before=seen[0], limit=5)
        seen = ids_of(older) + seen
        has_older = older["has_more"]
    while has_newer:
        newer = page(alice, room["id"], after=seen[-1], limit=5)
        seen = seen + ids_of(newer)
        has_newer = newer["has_more"]
    assert seen == ids


def test_has_newer_is_only_in_an_answer_around_a_message(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    ids = insert_many(app, alice, room["id"], 3)
    assert set(page(alice, room["id"])) == {"messages", "has_more"}
    assert set(page(alice, room["id"], after=ids[0])) == {"messages", "has_more"}


def test_around_a_message_of_another_room_or_none_is_a_404(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    other = make_room(alice, "elsewhere")
    elsewhere = insert_many(app, alice, other["id"], 1)[0]
    for message_id in (elsewhere, 987654):
        response = alice.get(messages_url(room["id"]), query_string={"around": message_id})
        error = assert_error(response, 404, "not_found")
        assert error["details"] == {"room_id": room["id"], "message_id": message_id}


@pytest.mark.parametrize(
    "args",
    [
        {"around": 0},
        {"around": "x"},
        {"around": 5, "before": 9},
        {"around": 5, "after": 1},
    ],
)
def test_a_bad_around_is_a_422(alice: Member, room: dict[str, Any], args: dict[str, Any]) -> None:
    response = alice.get(messages_url(room["id"]), query_string=args)
    assert_error(response, 422, "validation_error")


def test_around_in_a_private_room_of_others_is_the_404_of_a_missing_room(
    app: Flask, alice: Member, bob: Member
) -> None:
    secret = make_room(alice, "secret", kind="private")
    message_id = insert_many(app, alice, secret["id"], 1)[0]
    response = bob.get(f"{API}/rooms/{secret['id']}/messages", query_string={"around": message_id})
    error = assert_error(response, 404, "not_found")
    assert error["details"] == {"room_id": secret["id"]}
