from support import assert_error, make_room, send


def test_a_member_posts_and_reads_back(alice, bob):
    room = make_room(alice, "general")
    assert bob.post(f"/api/v1/rooms/{room['id']}/join").status_code == 201
    assert send(bob, room["id"], "hi").status_code == 201
    page = alice.get(f"/api/v1/rooms/{room['id']}/messages").get_json()
    assert [m["body"] for m in page["messages"]] == ["hi"]


def test_unknown_route_is_json_404(client):
    assert_error(client.get("/api/v1/nope"), 404, "not_found")
