"""Full-text search over messages: validation, word and prefix matching, who may see
what, the room filter, edits and deletions, and queries full of search syntax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from parley.actions.messages import send_message
from parley.extensions import db
from parley.models import User
from support import Member, as_stored, assert_error, make_room, send

API = "/api/v1"


def search(member: Member, q: str | None = None, **args: Any) -> TestResponse:
    if q is not None:
        args["q"] = q
    return member.get(f"{API}/search", query_string=args)


def found(member: Member, q: str | None, **args: Any) -> list[str]:
    response = search(member, q, **args)
    assert response.status_code == 200, response.get_json()
    return [m["body"] for m in response.get_json()["messages"]]


def post(member: Member, room_id: int, body: str) -> dict[str, Any]:
    response = send(member, room_id, body)
    assert response.status_code == 201, response.get_json()
    message: dict[str, Any] = as_stored(response.get_json())
    return message


def join(member: Member, room_id: int) -> None:
    assert member.post(f"{API}/rooms/{room_id}/join").status_code == 201


@pytest.fixture
def room(alice: Member) -> dict[str, Any]:
    return make_room(alice, "general")


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "ok", "limit": 0},
        {"q": "ok", "limit": 101},
    ],
)
def test_search_with_invalid_arguments_is_refused(alice: Member, args: dict[str, Any]) -> None:
    assert_error(alice.get(f"{API}/search", query_string=args), 422, "validation_error")


def test_search_accepts_200_characters(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "word")
    assert len("word " + "z" * 195) == 200
    assert found(alice, "word " + "z" * 195) == []
    assert found(alice, "wor" + " " * 196 + "!") == ["word"]


def test_search_requires_authentication(client: FlaskClient) -> None:
    assert_error(client.get(f"{API}/search", query_string={"q": "x"}), 401)


def test_search_with_only_punctuation_finds_nothing(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "hello world")
    response = search(alice, "!!! ??? ...")
    assert response.status_code == 200
    assert response.get_json() == {"messages": [], "has_more": False}


# --- matching --------------------------------------------------------------------------


def test_search_matches_whole_words_case_insensitively(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "Deploying the Release tomorrow")
    post(alice, room["id"], "nothing to see")
    assert found(alice, "release") == ["Deploying the Release tomorrow"]
    assert found(alice, "RELEASE") == ["Deploying the Release tomorrow"]
    assert found(alice, "tomorrow") == ["Deploying the Release tomorrow"]


def test_search_matches_word_prefixes_but_not_word_middles(
    alice: Member, room: dict[str, Any]
) -> None:
    post(alice, room["id"], "Deploying the release")
    assert found(alice, "depl") == ["Deploying the release"]
    assert found(alice, "rel") == ["Deploying the release"]
    assert found(alice, "ploying") == []
    assert found(alice, "deployingx") == []


def test_search_requires_every_word_to_match(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "red apple")
    post(alice, room["id"], "green apple")
    post(alice, room["id"], "red car")
    assert sorted(found(alice, "apple")) == ["green apple", "red apple"]
    assert found(alice, "red apple") == ["red apple"]
    assert found(alice, "apple red") == ["red apple"]
    assert found(alice, "red banana") == []


def test_search_ignores_punctuation_between_words(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "Ship it, then (maybe) celebrate!")
    assert found(alice, "ship, celebrate!") == ["Ship it, then (maybe) celebrate!"]
    assert found(alice, '"maybe"') == ["Ship it, then (maybe) celebrate!"]


def test_search_matches_non_ascii_words(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "Un café au lait, s'il vous plaît")
    post(alice, room["id"], "Straße und Größe")
    assert found(alice, "café") == ["Un café au lait, s'il vous plaît"]
    assert found(alice, "CAFÉ") == ["Un café au lait, s'il vous plaît"]
    assert found(alice, "straße") == ["Straße und Größe"]
    assert found(alice, "STRAßE größe") == ["Straße und Größe"]


def test_search_folds_case_of_non_ascii_words_both_ways(
    alice: Member, room: dict[str, Any]
) -> None:
    post(alice, room["id"], "ÉCOLE NORMALE")
    post(alice, room["id"], "petite école")
    assert sorted(found(alice, "école")) == ["petite école", "ÉCOLE NORMALE"]
    assert sorted(found(alice, "ÉCOLE")) == ["petite école", "ÉCOLE NORMALE"]


def test_search_treats_operator_words_as_plain_words(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "this AND that OR NOT near")
    post(alice, room["id"], "something else")
    assert found(alice, "AND") == ["this AND that OR NOT near"]
    assert found(alice, "not near") == ["this AND that OR NOT near"]
    assert found(alice, "NEAR(this that)") == ["this AND that OR NOT near"]


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"unterminated',
        '""',
        "*",
        "foo*",
        "*foo",
        "AND",
        "foo AND",
        "OR bar",
        "NOT",
        "NEAR(",
        "NEAR(foo bar, 2)",
        "(",
        ")",
        "(foo",
        "-",
        "-foo",
        "foo -bar",
        "'",
        "it's",
        "a'b'c",
        "\\",
        "foo\\",
        "%",
        "_",
        "foo _",
        "__init__",
        "body:foo",
        "messages_fts:foo",
        "^foo",
        "+foo",
        "{foo bar}",
        "[x]",
        "foo & bar | !baz <-> qux",
        ":*",
        "'foo':*",
        "foo:*A",
        "日本語",
        "🙂 emoji",
        "ǅemal",
        "ﬁle",
        "a" * 200,
        " ".join(["w"] * 100),
        "x;DROP TABLE messages;--",
    ],
)
def test_search_syntax_in_the_query_never_causes_an_error(
    alice: Member, room: dict[str, Any], q: str
) -> None:
    post(alice, room["id"], "foo bar baz qux file it's")
    response = search(alice, q)
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) == {"messages", "has_more"}


def test_search_with_many_words_still_works(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "alpha beta gamma")
    assert found(alice, " ".join(["alpha"] * 30)) == ["alpha beta gamma"]


# --- who may see what ------------------------------------------------------------------


def test_search_finds_messages_in_my_rooms_and_in_public_rooms_i_am_not_in(
    alice: Member, bob: Member
) -> None:
    mine = make_room(bob, "mine")
    public = make_room(alice, "open")
    post(bob, mine["id"], "needle in mine")
    post(alice, public["id"], "needle in public")
    assert sorted(found(bob, "needle")) == ["needle in mine", "needle in public"]


def test_search_never_leaks_a_private_room_i_am_not_in(alice: Member, bob: Member) -> None:
    private = make_room(alice, "hideout", kind="private")
    post(alice, private["id"], "needle secret")
    assert found(bob, "needle") == []
    assert found(alice, "needle") == ["needle secret"]
    alice.post(f"{API}/rooms/{private['id']}/members", json={"user_id": bob.id})
    assert found(bob, "needle") == ["needle secret"]


def test_search_never_leaks_a_direct_room_of_others(
    alice: Member, bob: Member, make_user: Callable[..., Member]
) -> None:
    carol = make_user("carol")
    dm = alice.post(f"{API}/dm", json={"user_id": bob.id}).get_json()
    post(alice, dm["id"], "needle whisper")
    assert found(bob, "needle") == ["needle whisper"]
    assert found(carol, "needle") == []


def test_search_leaves_out_a_room_i_am_banned_from(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    join(bob, room["id"])
    post(alice, room["id"], "needle banned")
    assert found(bob, "needle") == ["needle banned"]
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    assert found(bob, "needle") == []


def test_search_does_not_show_a_private_room_to_a_global_moderator_outside_it(
    alice: Member, make_user: Callable[..., Member]
) -> None:
    mod = make_user("mod", role="Moderator")
    private = make_room(alice, "hideout", kind="private")
    post(alice, private["id"], "needle private")
    assert found(mod, "needle") == []


def test_search_can_be_limited_to_one_room(alice: Member, room: dict[str, Any]) -> None:
    other = make_room(alice, "other")
    post(alice, room["id"], "needle here")
    post(alice, other["id"], "needle there")
    response = search(alice, "needle", room_id=room["id"])
    assert response.status_code == 200
    messages = response.get_json()["messages"]
    assert [(m["body"], m["room_id"]) for m in messages] == [("needle here", room["id"])]


def test_search_in_a_public_room_i_am_not_in(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    post(alice, room["id"], "needle public")
    assert found(bob, "needle", room_id=room["id"]) == ["needle public"]


def test_search_in_a_private_room_i_am_not_in_is_not_found(alice: Member, bob: Member) -> None:
    private = make_room(alice, "hideout", kind="private")
    post(alice, private["id"], "needle secret")
    assert_error(search(bob, "needle", room_id=private["id"]), 404, "not_found")


def test_search_in_a_missing_room_is_not_found(alice: Member) -> None:
    assert_error(search(alice, "needle", room_id=987654), 404, "not_found")


def test_search_in_a_room_i_am_banned_from_is_forbidden(
    alice: Member, bob: Member, room: dict[str, Any]
) -> None:
    join(bob, room["id"])
    post(alice, room["id"], "needle")
    alice.post(f"{API}/rooms/{room['id']}/members/{bob.id}/ban")
    assert_error(search(bob, "needle", room_id=room["id"]), 403, "banned")


@pytest.mark.parametrize("room_id", [0, -3, "abc"])
def test_search_with_an_invalid_room_id_is_refused(alice: Member, room_id: int | str) -> None:
    assert_error(search(alice, "x", room_id=room_id), 422, "validation_error")


# --- edits and deletions ---------------------------------------------------------------


def test_deleted_messages_do_not_match(alice: Member, room: dict[str, Any]) -> None:
    gone = post(alice, room["id"], "needle doomed")
    post(alice, room["id"], "needle kept")
    alice.delete(f"{API}/messages/{gone['id']}")
    assert found(alice, "needle") == ["needle kept"]
    assert found(alice, "doomed") == []


def test_edited_messages_match_their_new_text_only(alice: Member, room: dict[str, Any]) -> None:
    message = post(alice, room["id"], "original wording")
    response = alice.patch(f"{API}/messages/{message['id']}", json={"body": "revised phrasing"})
    assert response.status_code == 200
    assert found(alice, "original") == []
    assert found(alice, "wording") == []
    assert found(alice, "revised") == ["revised phrasing"]
    assert [m["id"] for m in search(alice, "phrasing").get_json()["messages"]] == [message["id"]]


def test_a_message_edited_twice_matches_only_its_latest_text(
    alice: Member, room: dict[str, Any]
) -> None:
    message = post(alice, room["id"], "first")
    alice.patch(f"{API}/messages/{message['id']}", json={"body": "second"})
    alice.patch(f"{API}/messages/{message['id']}", json={"body": "third"})
    assert found(alice, "first") == []
    assert found(alice, "second") == []
    assert found(alice, "third") == ["third"]


# --- order and paging ------------------------------------------------------------------


def test_search_returns_newest_first_with_has_more(
    app: Flask, alice: Member, room: dict[str, Any]
) -> None:
    with app.app_context():
        user = db.session.get_one(User, alice.id)
        ids = [send_message(user, room["id"], f"needle {i}")[0].id for i in range(5)]
        send_message(user, room["id"], "haystack")
        db.session.remove()
    first = search(alice, "needle", limit=2).get_json()
    assert [m["id"] for m in first["messages"]] == [ids[4], ids[3]]
    assert first["has_more"] is True
    exact = search(alice, "needle", limit=5).get_json()
    assert [m["id"] for m in exact["messages"]] == list(reversed(ids))
    assert exact["has_more"] is False
    default = search(alice, "needle").get_json()
    assert len(default["messages"]) == 5
    assert default["has_more"] is False


def test_search_results_have_the_message_shape(alice: Member, room: dict[str, Any]) -> None:
    message = post(alice, room["id"], "needle **shape**")
    assert search(alice, "needle").get_json()["messages"] == [message]


def test_search_finds_words_inside_links_and_numbers(alice: Member, room: dict[str, Any]) -> None:
    post(alice, room["id"], "docs at https://docs.example.org/deploy/guide and pi is 3.14")
    assert found(alice, "guide") == ["docs at https://docs.example.org/deploy/guide and pi is 3.14"]
    assert found(alice, "example") != []
    assert found(alice, "14") != []
