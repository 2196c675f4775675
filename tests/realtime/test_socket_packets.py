"""Socket.IO packets: Parley's packet class encodes what python-socketio's own does, and
the server uses it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from flask import Flask
from socketio import packet

from parley.extensions import socketio
from parley.realtime.packets import Packet

SHAPES = [
    None,
    "text",
    ["message:new", {"message": {"id": 1, "author": {"id": 2}, "html": "<p>é</p>"}}],
    ["video:frame", {"room_id": 3}, b"\xff\xd8jpeg"],
    [{"nested": [[{"deeper": bytearray(b"x")}]]}],
    [{"seq": 1, "list": [1, 2.5, True, None, "x"]}],
]


@pytest.mark.parametrize("data", SHAPES)
def test_the_binary_check_answers_as_python_socketios_own(data: Any) -> None:
    assert Packet.data_is_binary(data) == packet.Packet.data_is_binary(data)


@pytest.mark.parametrize("kind", [packet.EVENT, packet.ACK])
@pytest.mark.parametrize("data", SHAPES[1:])
def test_a_packet_decodes_to_what_python_socketios_own_encoding_decodes_to(
    kind: int, data: Any
) -> None:
    ours = Packet(kind, data=data, id=7 if kind == packet.ACK else None).encode()
    stock = packet.Packet(kind, data=data, id=7 if kind == packet.ACK else None).encode()
    ours, stock = (p if isinstance(p, list) else [p] for p in (ours, stock))
    assert ours[1:] == stock[1:]
    decoded = packet.Packet(encoded_packet=ours[0])
    expected = packet.Packet(encoded_packet=stock[0])
    assert (decoded.packet_type, decoded.id, decoded.data) == (
        expected.packet_type,
        expected.id,
        expected.data,
    )


def test_what_orjson_refuses_is_encoded_as_before() -> None:
    huge = {"details": {"room_id": 2**70}, 5: "int key"}
    assert json.loads(Packet.json.dumps(huge)) == {"details": {"room_id": 2**70}, "5": "int key"}


def test_what_json_cannot_hold_fails_as_before() -> None:
    # python-socketio looks for binary parts in lists and dicts only.
    data = [(b"in a tuple",)]
    assert not Packet.data_is_binary(data) and not packet.Packet.data_is_binary(data)
    with pytest.raises(TypeError):
        packet.Packet(packet.EVENT, data=data).encode()
    with pytest.raises(TypeError):
        Packet(packet.EVENT, data=data).encode()


def test_incoming_packets_are_parsed_by_the_standard_library_as_before() -> None:
    assert math.isnan(Packet.json.loads('{"n": NaN}')["n"])


def test_the_server_encodes_with_parleys_packets(app: Flask) -> None:
    assert socketio.server.packet_class is Packet
